# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Segmentation and depth metrics, accumulated on the device and summable across processes.

Segmentation: a ``bincount`` confusion matrix gives per-class IoU, mean IoU and pixel
accuracy. Depth (Eigen et al. 2014): RMSE, RMSE of log depth, absolute and squared relative
error, and the share of pixels with ``max(pred/gt, gt/pred) < 1.25^k``, over valid pixels.
"""

from __future__ import annotations

import math

from mtl_perception.labels import IGNORE_ID
import torch
from torch import distributed


class ConfusionMatrix:
    """Counts of (true class, predicted class) pixel pairs."""

    def __init__(self, num_classes: int, device: torch.device | str = 'cpu') -> None:
        self.num_classes = num_classes
        self.counts = torch.zeros(num_classes, num_classes, dtype=torch.int64, device=device)

    def update(self, truth: torch.Tensor, prediction: torch.Tensor) -> None:
        """Add pixels; truth equal to the ignore id (or out of range) is skipped."""
        truth, prediction = truth.reshape(-1).long(), prediction.reshape(-1).long()
        keep = (truth != IGNORE_ID) & (truth >= 0) & (truth < self.num_classes)
        pairs = truth[keep] * self.num_classes + prediction[keep].clamp(0, self.num_classes - 1)
        self.counts += torch.bincount(pairs, minlength=self.num_classes ** 2).view(
            self.num_classes, self.num_classes)

    def all_reduce(self) -> None:
        """Sum the counts of every process (no-op outside ``torch.distributed``)."""
        if distributed.is_available() and distributed.is_initialized():
            distributed.all_reduce(self.counts)

    def iou(self) -> torch.Tensor:
        """Return the IoU per class; NaN for classes absent from both truth and prediction."""
        counts = self.counts.double()
        hits = counts.diag()
        union = counts.sum(0) + counts.sum(1) - hits
        return torch.where(union > 0, hits / union.clamp(min=1), math.nan)

    def compute(self) -> dict[str, float]:
        """``miou`` (over classes present), ``pixel_acc`` and ``iou_per_class``."""
        counts = self.counts.double()
        iou = self.iou()
        total = counts.sum()
        return {'miou': float(iou.nanmean()) if (~iou.isnan()).any() else math.nan,
                'pixel_acc': float(counts.diag().sum() / total) if total else math.nan,
                'iou_per_class': [float(v) for v in iou]}


class DepthMetrics:
    """Sums of the depth error terms over valid pixels (truth > 0 and finite)."""

    _KEYS = ('count', 'squared', 'squared_log', 'abs_rel', 'sq_rel', 'delta1', 'delta2',
             'delta3')

    def __init__(self, device: torch.device | str = 'cpu', max_depth: float | None = None,
                 min_depth: float = 1e-3) -> None:
        self.sums = torch.zeros(len(self._KEYS), dtype=torch.float64, device=device)
        self.max_depth, self.min_depth = max_depth, min_depth

    def update(self, truth: torch.Tensor, prediction: torch.Tensor) -> None:
        """Add pixels; predictions are clamped to ``[min_depth, max_depth]`` first."""
        truth, prediction = truth.reshape(-1).double(), prediction.reshape(-1).double()
        valid = torch.isfinite(truth) & (truth > self.min_depth)
        if self.max_depth is not None:
            valid &= truth <= self.max_depth
        truth = truth[valid]
        # REP 117 predictions: -Inf (too near) and NaN (no depth, e.g. sky) count as the
        # nearest depth, +Inf (too far) as the farthest
        far = self.max_depth if self.max_depth is not None else torch.finfo(torch.float64).max
        prediction = torch.nan_to_num(prediction[valid], nan=self.min_depth, neginf=self.min_depth,
                                      posinf=far).clamp(min=self.min_depth, max=self.max_depth)
        ratio = torch.maximum(prediction / truth, truth / prediction)
        difference = prediction - truth
        self.sums += torch.stack([
            torch.tensor(float(truth.numel()), dtype=torch.float64, device=truth.device),
            (difference ** 2).sum(), ((prediction.log() - truth.log()) ** 2).sum(),
            (difference.abs() / truth).sum(), (difference ** 2 / truth).sum(),
            (ratio < 1.25).sum(), (ratio < 1.25 ** 2).sum(), (ratio < 1.25 ** 3).sum()])

    def all_reduce(self) -> None:
        """Sum across processes (no-op outside ``torch.distributed``)."""
        if distributed.is_available() and distributed.is_initialized():
            distributed.all_reduce(self.sums)

    def compute(self) -> dict[str, float]:
        """``rmse``, ``rmse_log``, ``abs_rel``, ``sq_rel``, ``delta1..3``; NaN without pixels."""
        sums = dict(zip(self._KEYS, self.sums.tolist()))
        count = sums.pop('count')
        if not count:
            return {k: math.nan for k in ('rmse', 'rmse_log', 'abs_rel', 'sq_rel', 'delta1',
                                          'delta2', 'delta3')}
        means = {k: v / count for k, v in sums.items()}
        return {'rmse': math.sqrt(means['squared']), 'rmse_log': math.sqrt(means['squared_log']),
                'abs_rel': means['abs_rel'], 'sq_rel': means['sq_rel'],
                'delta1': means['delta1'], 'delta2': means['delta2'], 'delta3': means['delta3']}
