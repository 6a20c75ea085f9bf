# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Multi-task loss: cross-entropy on labels plus inverse Huber (berHu) on valid depth.

Both terms are masked per sample (a sample without labels or depth contributes nothing to
that task) and per pixel (ignore id, invalid depth), and averaged over the pixels that count,
so a batch mixing depth-only and labels-only samples trains both heads correctly.
"""

from __future__ import annotations

from mtl_perception.labels import IGNORE_ID
from mtl_perception.training.segmentation_losses import CrossEntropy, SegmentationCriterion
import torch
from torch.nn import functional as F


def berhu(prediction: torch.Tensor, target: torch.Tensor,
          threshold_fraction: float = 0.2) -> torch.Tensor:
    """Inverse Huber loss over matching 1-D tensors of valid pixels (Laina et al. 2016).

    L1 for residuals up to ``c = threshold_fraction * max|residual|``, then
    ``(r^2 + c^2) / 2c``: large errors get quadratic weight, small ones keep L1's pull.
    """
    residual = (prediction - target).abs()
    if residual.numel() == 0:
        return prediction.sum() * 0.0
    c = (threshold_fraction * residual.max()).detach().clamp(min=1e-6)
    return torch.where(residual <= c, residual, (residual ** 2 + c ** 2) / (2 * c)).mean()


class MultiTaskLoss:
    """Weighted sum of the per-task losses, returned as a dict of named terms.

    Args:
        segmentation_weight: Weight of the cross-entropy term.
        depth_weight: Weight of the berHu term.
        log_depth: Compare log depths instead of metres: every pixel's error is relative, so
            a street's 80 m far field does not drown the metres near the camera.
        normals_weight: Weight of the normals term (networks with a normals head).
        segmentation_criterion: Labels loss (:mod:`.segmentation_losses`); cross-entropy.
    """

    def __init__(self, segmentation_weight: float = 1.0, depth_weight: float = 1.0, *,
                 log_depth: bool = False, normals_weight: float = 1.0,
                 segmentation_criterion: SegmentationCriterion | None = None) -> None:
        self.weights = {'segmentation': segmentation_weight, 'depth': depth_weight,
                        'normals': normals_weight}
        self.log_depth = log_depth
        self.segmentation_criterion = segmentation_criterion or CrossEntropy()

    def __call__(self, outputs: dict[str, torch.Tensor],
                 batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Return ``{"segmentation", "depth", ["normals",] "total"}``, upsampled to targets.

        The normals term, ``1 - cos`` between predicted and true unit normals on valid pixels,
        exists when the network has a normals head.

        Args:
            outputs: Network outputs (``segmentation`` logits, ``depth`` metres, optional
                ``normals`` unit vectors).
            batch: Collated samples (``labels``, ``depth``, ``normals`` and their ``has_*``).
        """
        size = batch['labels'].shape[-2:]
        logits = F.interpolate(outputs['segmentation'].float(), size=size, mode='bilinear',
                               align_corners=False)
        labels = batch['labels'].masked_fill(~batch['has_labels'].view(-1, 1, 1), IGNORE_ID)
        if (labels != IGNORE_ID).any():
            segmentation = self.segmentation_criterion(logits, labels)
        else:
            segmentation = logits.sum() * 0.0
        depth = F.interpolate(outputs['depth'].float(), size=size, mode='bilinear',
                              align_corners=False)[:, 0]
        valid = (batch['depth'] > 0) & batch['has_depth'].view(-1, 1, 1)
        prediction, target = depth[valid], batch['depth'][valid]
        if self.log_depth:
            prediction, target = prediction.clamp(min=1e-3).log(), target.log()
        depth_term = berhu(prediction, target)
        terms = {'segmentation': segmentation, 'depth': depth_term}
        if 'normals' in outputs:
            terms['normals'] = _normals_term(outputs['normals'], batch, size)
        terms['total'] = sum(self.weights[name] * value for name, value in terms.items())
        return terms


def _normals_term(normals: torch.Tensor, batch: dict[str, torch.Tensor],
                  size: torch.Size) -> torch.Tensor:
    """Mean ``1 - cos`` angle error over pixels with a true normal, in samples that have them.

    Without any such pixel the term is a zero that still depends on the head, so that every
    parameter receives a gradient (DistributedDataParallel requires it).
    """
    predicted = F.normalize(F.interpolate(normals.float(), size=size, mode='bilinear',
                                          align_corners=False), dim=1, eps=1e-6)
    target = batch['normals']
    valid = (target.norm(dim=1) > 0.5) & batch['has_normals'].view(-1, 1, 1)
    if not valid.any():
        return predicted.sum() * 0.0
    cosine = (predicted * target).sum(dim=1)
    return (1.0 - cosine[valid]).mean()
