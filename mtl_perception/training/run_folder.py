# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""A training run's folder: ``last.pt``, ``best.pt``, ``metrics.csv``, ``config.yaml``.

Every write is atomic or append-only, so a run killed at any instant resumes from what the
folder holds: ``metrics.csv`` rows of epochs that ``last.pt`` does not hold are dropped on
resume, and temporaries a kill left behind are removed.
"""

from __future__ import annotations

import csv
import logging
import math
import os
from pathlib import Path
from typing import Any

LOGGER = logging.getLogger(__name__)
CSV_FIELDS = ('epoch', 'step', 'lr', 'seconds', 'images_per_second', 'train_total',
              'train_segmentation', 'train_depth', 'train_normals', 'val_miou',
              'val_pixel_acc', 'val_rmse', 'val_rmse_log', 'val_abs_rel', 'val_sq_rel',
              'val_delta1', 'val_delta2', 'val_delta3', 'val_score')


def validation_score(metrics: dict[str, float]) -> float:
    """One number to pick ``best.pt`` by: mean of mIoU and delta1 (both in [0, 1])."""
    parts = [metrics.get('miou', math.nan), metrics.get('delta1', math.nan)]
    parts = [p for p in parts if not math.isnan(p)]
    return sum(parts) / len(parts) if parts else -math.inf


class RunFolder:
    """The files of one run in ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def last(self) -> Path:
        """Resumable checkpoint of the latest finished epoch."""
        return self.path / 'last.pt'

    @property
    def best(self) -> Path:
        """Checkpoint of the epoch with the best validation score."""
        return self.path / 'best.pt'

    @property
    def metrics(self) -> Path:
        """One row per epoch (:data:`CSV_FIELDS`)."""
        return self.path / 'metrics.csv'

    def append_row(self, row: dict[str, Any]) -> None:
        """Add an epoch's row to ``metrics.csv`` (with the header if the file is new)."""
        fresh = not self.metrics.exists()
        with self.metrics.open('a', newline='') as stream:
            writer = csv.DictWriter(stream, fieldnames=CSV_FIELDS, extrasaction='ignore')
            if fresh:
                writer.writeheader()
            writer.writerow(row)

    def trim_rows(self, epochs_done: int) -> None:
        """Drop ``metrics.csv`` rows of epochs that ``last.pt`` does not hold.

        A kill after an epoch's row and before its checkpoint leaves such a row; the resumed
        run repeats the epoch and writes it again.
        """
        if not self.metrics.is_file():
            return
        with self.metrics.open(newline='') as stream:
            rows = list(csv.DictReader(stream))
        kept = [row for row in rows if int(row['epoch']) <= epochs_done]
        if len(kept) == len(rows):
            return
        temporary = self.metrics.with_name(f'.{self.metrics.name}.{os.getpid()}.tmp')
        with temporary.open('w', newline='') as stream:
            writer = csv.DictWriter(stream, fieldnames=CSV_FIELDS, extrasaction='ignore')
            writer.writeheader()
            writer.writerows(kept)
        os.replace(temporary, self.metrics)
        LOGGER.info('metrics.csv: dropped %d row(s) of epochs not in %s', len(rows) - len(kept),
                    self.last.name)

    def remove_stale_temporaries(self) -> None:
        """Delete temporary files a killed run left beside its checkpoints and metrics."""
        if not self.path.is_dir():
            return
        for name in ('last.pt', 'best.pt', 'metrics.csv'):
            for stale in self.path.glob(f'.{name}.*.tmp'):
                stale.unlink(missing_ok=True)
                LOGGER.info('removed %s, left by an interrupted run', stale.name)
