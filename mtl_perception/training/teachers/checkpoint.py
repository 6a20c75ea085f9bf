# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""A checkpoint of this project as a teacher of both tasks (e.g. a larger or older model).

Labels are the argmax of the logits upsampled to the frame (what the Predictor publishes),
with their softmax probability as confidence; depth is the Predictor's metres, with REP 117's
out-of-range and sky markers turned into NaN (no pseudo-depth there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mtl_perception.engines.torch_engine import Predictor
from mtl_perception.training.teachers.base import TeacherDepth, TeacherLabels
from mtl_perception.weights_file import file_sha256
import numpy as np
import torch
from torch.nn import functional as F


class CheckpointTeacher:
    """Both teachers from one ``.pt`` checkpoint.

    Args:
        path: The checkpoint.
        device: Where it runs (float32).
    """

    metric = True

    def __init__(self, path: Path, device: torch.device) -> None:
        self.path = Path(path)
        self.predictor = Predictor.from_checkpoint(self.path, device=device, half=False)
        self.class_names = list(self.predictor.class_names)
        self._sha256 = file_sha256(self.path)

    def describe(self) -> dict[str, Any]:
        """Return the checkpoint file and its SHA-256, for the manifest."""
        return {'source': str(self.path.resolve()), 'family': 'mtl_perception checkpoint',
                'sha256': self._sha256, 'classes': len(self.class_names)}

    @torch.inference_mode()
    def segment(self, frames: list[np.ndarray]) -> list[TeacherLabels]:
        """Segment each frame at its own size."""
        results = []
        for frame in frames:
            predictor = self.predictor
            outputs = predictor.network(predictor.preprocess(predictor.upload(frame)))
            logits = F.interpolate(outputs['segmentation'].float(), size=frame.shape[:2],
                                   mode='bilinear', align_corners=False)[0]
            confidence, ids = logits.softmax(0).max(0)
            results.append(TeacherLabels(ids.cpu().numpy().astype(np.int64),
                                         confidence.cpu().numpy().astype(np.float32)))
        return results

    def estimate(self, frames: list[np.ndarray]) -> list[TeacherDepth]:
        """Metric depth of each frame; NaN where the Predictor marks no usable depth."""
        results = []
        for frame in frames:
            depth = self.predictor.predict(frame).depth
            results.append(TeacherDepth(np.where(np.isfinite(depth), depth, np.nan)
                                        .astype(np.float32), metric=True))
        return results
