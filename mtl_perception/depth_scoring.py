# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Depth scored frame by frame and over a drive, as the monocular-depth literature does.

Valid pixels have a measurement (LiDAR or dense ground truth) in ``[min_depth, max_depth]``
(KITTI's 1e-3..80 m by default) inside the optional crop: ``garg`` (Garg et al. 2016) or
``eigen`` (Eigen et al. 2014), given as shares of the image height and width. Two rows
are always kept apart: the metric prediction as it is, and the prediction median-scaled per
frame (``median(truth) / median(prediction)``, what self-supervised methods without metric
scale report); never one in place of the other. Over a drive, pixels are pooled (as
``mtl_eval`` pools them) and the mean of the per-frame figures (the Eigen-split convention
of averaging per image) is given beside it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
import math
from pathlib import Path

from mtl_perception.metrics import DepthMetrics
import numpy as np
import torch

#: (top, bottom, left, right) as shares of the image height and width.
CROPS = {'none': None,
         'garg': (0.40810811, 0.99189189, 0.03594771, 0.96405229),
         'eigen': (0.3324324, 0.91351351, 0.0359477, 0.96405229)}
METRIC_NAMES = ('abs_rel', 'sq_rel', 'rmse', 'rmse_log', 'delta1', 'delta2', 'delta3')


def crop_mask(height: int, width: int, crop: str) -> np.ndarray:
    """Boolean ``(H, W)`` mask of the pixels a crop keeps (all for ``none``)."""
    mask = np.zeros((height, width), dtype=bool)
    if CROPS[crop] is None:
        mask[:] = True
        return mask
    top, bottom, left, right = CROPS[crop]
    mask[int(top * height):int(bottom * height), int(left * width):int(right * width)] = True
    return mask


def median_scaled(truth: torch.Tensor, prediction: torch.Tensor, min_depth: float,
                  max_depth: float) -> tuple[torch.Tensor, float] | None:
    """Return ``prediction`` times ``median(truth) / median(prediction)`` and that factor.

    Medians over the pixels with a measurement in range; the prediction is first clamped to
    the range as the metrics clamp it (NaN, the sky, counts as the nearest depth). None when
    no pixel is valid.
    """
    valid = torch.isfinite(truth) & (truth > min_depth) & (truth <= max_depth)
    if not valid.any():
        return None
    clean = torch.nan_to_num(prediction.to(truth.dtype), nan=min_depth, posinf=max_depth,
                             neginf=min_depth).clamp(min_depth, max_depth)
    scale = float(truth[valid].median() / clean[valid].median())
    return clean * scale, scale


@dataclass
class FrameScore:
    """One frame's figures: ``metrics`` as predicted, ``scaled`` after median scaling."""

    stamp_ns: int
    pixels: int
    scale: float
    metrics: dict[str, float]
    scaled: dict[str, float]


@dataclass
class DriveScorer:
    """Accumulate depth scores frame by frame; summarise the drive."""

    min_depth: float = 1e-3
    max_depth: float = 80.0
    crop: str = 'none'
    frames: list[FrameScore] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.crop not in CROPS:
            raise ValueError(f'crop must be one of {", ".join(CROPS)}, not {self.crop!r}')
        self.pooled = self._metrics()
        self.pooled_scaled = self._metrics()

    def _metrics(self) -> DepthMetrics:
        return DepthMetrics(max_depth=self.max_depth, min_depth=self.min_depth)

    def add(self, stamp_ns: int, truth: np.ndarray, prediction: np.ndarray) -> FrameScore | None:
        """Score one frame; ``truth`` is NaN or 0 where there is no measurement.

        Returns:
            The frame's score, or None when no pixel is valid (the frame is not counted).
        """
        truth = np.where(crop_mask(*truth.shape, self.crop), truth, np.nan)
        truth_tensor = torch.from_numpy(truth.astype(np.float64))
        prediction_tensor = torch.from_numpy(np.asarray(prediction, dtype=np.float64))
        scaled = median_scaled(truth_tensor, prediction_tensor, self.min_depth, self.max_depth)
        if scaled is None:
            return None
        scored = {}
        for name, values, pooled in (('metrics', prediction_tensor, self.pooled),
                                     ('scaled', scaled[0], self.pooled_scaled)):
            frame = self._metrics()
            frame.update(truth_tensor, values)
            pooled.update(truth_tensor, values)
            scored[name] = frame.compute()
        valid = np.isfinite(truth) & (truth > self.min_depth) & (truth <= self.max_depth)
        score = FrameScore(stamp_ns, int(valid.sum()), scaled[1], scored['metrics'],
                           scored['scaled'])
        self.frames.append(score)
        return score

    def summary(self) -> dict[str, object]:
        """Pooled and per-frame-mean figures of both rows, with the median scales' spread."""
        scales = np.array([frame.scale for frame in self.frames])

        def mean_of(row: str) -> dict[str, float]:
            return {name: float(np.mean([getattr(f, row)[name] for f in self.frames]))
                    for name in METRIC_NAMES} if self.frames else {}

        return {
            'frames': len(self.frames), 'pixels': sum(f.pixels for f in self.frames),
            'depth_range_m': [self.min_depth, self.max_depth], 'crop': self.crop,
            'metrics': self.pooled.compute(), 'metrics_frame_mean': mean_of('metrics'),
            'median_scaled': self.pooled_scaled.compute(),
            'median_scaled_frame_mean': mean_of('scaled'),
            'median_scale': {'median': float(np.median(scales)) if len(scales) else math.nan,
                             'std_over_median': float(scales.std() / np.median(scales))
                             if len(scales) else math.nan}}

    def write_csv(self, path: Path) -> None:
        """One row per scored frame: stamp, pixels, scale, both rows' metrics."""
        with path.open('w', newline='') as stream:
            writer = csv.writer(stream)
            writer.writerow(['stamp_ns', 'pixels', 'median_scale',
                             *METRIC_NAMES, *(f'scaled_{name}' for name in METRIC_NAMES)])
            for frame in self.frames:
                writer.writerow([frame.stamp_ns, frame.pixels, f'{frame.scale:.6f}',
                                 *(f'{frame.metrics[n]:.6f}' for n in METRIC_NAMES),
                                 *(f'{frame.scaled[n]:.6f}' for n in METRIC_NAMES)])
