# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Training curves from a run's ``metrics.csv`` as one PNG."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
import sys

import matplotlib

matplotlib.use('Agg')
from matplotlib import pyplot  # noqa: E402  (the backend must be chosen first)

_PANELS = (
    ('loss', ('train_total', 'train_segmentation', 'train_depth'), 'training loss'),
    ('segmentation', ('val_miou', 'val_pixel_acc'), 'validation (higher is better)'),
    ('depth', ('val_delta1',), 'validation delta < 1.25'),
    ('depth error', ('val_abs_rel', 'val_rmse_log'), 'validation (lower is better)'),
)


def plot_training_curves(csv_path: str | Path, png_path: str | Path,
                         title: str | None = None) -> Path:
    """Plot losses and validation metrics per epoch; columns that are absent are skipped."""
    with open(csv_path, newline='') as stream:
        rows = list(csv.DictReader(stream))
    figure, axes = pyplot.subplots(1, len(_PANELS), figsize=(4.2 * len(_PANELS), 3.4))
    epochs = [int(row['epoch']) for row in rows]
    for axis, (name, columns, label) in zip(axes, _PANELS):
        for column in columns:
            values = [float(row[column]) if row.get(column) else float('nan') for row in rows]
            axis.plot(epochs, values, marker='o', markersize=3, label=column)
        axis.set_title(label)
        axis.set_xlabel('epoch')
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
        if name == 'loss':
            axis.set_yscale('log')
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(png_path, dpi=110)
    pyplot.close(figure)
    return png_path


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m mtl_perception.training.plots RUN/metrics.csv OUT.png``."""
    parser = argparse.ArgumentParser(description="Plot a training run's curves to a PNG.")
    parser.add_argument('csv', type=Path, help='metrics.csv of a run')
    parser.add_argument('png', type=Path, help='image to write')
    parser.add_argument('--title', help='figure title')
    args = parser.parse_args(argv)
    plot_training_curves(args.csv, args.png, args.title)
    return 0


if __name__ == '__main__':
    sys.exit(main())
