# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Segmentation criteria: plain, class-balanced and online hard-example cross-entropy.

Street scenes are mostly road, building and sky; poles and people cover a few per cent of the
pixels, so plain cross-entropy can score well while never predicting them. Two remedies:
weights per class from the training set's pixel frequencies (rare classes count more), or
online hard-example mining (only the pixels the network still gets wrong count, whatever
their class). Which one helps is measured in docs/training.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mtl_perception.labels import IGNORE_ID
from mtl_perception.training.errors import TrainingConfigError
import torch
from torch.nn import functional as F
from torch.utils.data import Dataset
from tqdm import tqdm

SEGMENTATION_LOSSES = ('cross_entropy', 'balanced', 'ohem')


class SegmentationCriterion(Protocol):
    """Loss of ``(B, C, H, W)`` logits against ``(B, H, W)`` ids (``IGNORE_ID`` ignored)."""

    def __call__(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Return the scalar loss."""


class CrossEntropy:
    """Mean cross-entropy over labelled pixels, optionally weighted per class."""

    def __init__(self, class_weights: Sequence[float] | None = None) -> None:
        self.weights = (torch.tensor(class_weights, dtype=torch.float32)
                        if class_weights is not None else None)

    def __call__(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Return the scalar loss."""
        weights = self.weights.to(logits.device) if self.weights is not None else None
        return F.cross_entropy(logits, labels, weight=weights, ignore_index=IGNORE_ID)


class HardPixelCrossEntropy:
    """Online hard-example mining: mean cross-entropy of the pixels still misjudged.

    A pixel counts while the probability of its true class is below ``threshold``; at least
    ``min_fraction`` of the labelled pixels (the hardest) always count, so the loss never
    vanishes on an easy batch.
    """

    def __init__(self, threshold: float = 0.7, min_fraction: float = 0.1) -> None:
        self.threshold = threshold
        self.min_fraction = min_fraction

    def __call__(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Return the scalar loss."""
        per_pixel = F.cross_entropy(logits, labels, ignore_index=IGNORE_ID, reduction='none')
        losses = per_pixel[labels != IGNORE_ID]
        if losses.numel() == 0:
            return logits.sum() * 0.0
        hard = losses[losses > -torch.log(torch.tensor(self.threshold))]
        minimum = max(1, int(self.min_fraction * losses.numel()))
        if hard.numel() < minimum:
            hard = losses.topk(minimum).values
        return hard.mean()


def class_frequencies(dataset: Dataset, num_classes: int, *, samples: int = 400,
                      progress: bool = True) -> torch.Tensor:
    """Share of labelled pixels per class, over every ``len // samples``-th sample."""
    counts = torch.zeros(num_classes, dtype=torch.float64)
    step = max(1, len(dataset) // samples)
    indices = range(0, len(dataset), step)
    for index in tqdm(indices, desc='counting class pixels', unit='sample', disable=not progress):
        sample = dataset[index]
        if not bool(sample['has_labels']):
            continue
        labels = sample['labels'].reshape(-1).long()
        labels = labels[labels != IGNORE_ID]
        counts += torch.bincount(labels, minlength=num_classes)[:num_classes].double()
    if counts.sum() == 0:
        raise TrainingConfigError('segmentation_loss balanced: the training set has no labels')
    return counts / counts.sum()


def balanced_weights(frequencies: torch.Tensor) -> list[float]:
    """Weigh each class by ENet's ``1 / ln(1.02 + p)``, scaled so a mean pixel's stays 1.

    Bounded (at most about 50 for an absent class), unlike plain inverse frequency, which
    lets a class seen in a handful of pixels dominate the loss.
    """
    weights = 1.0 / torch.log(1.02 + frequencies)
    weights = weights / (weights * frequencies).sum()
    return [float(w) for w in weights]


def build_segmentation_criterion(name: str, dataset: Dataset | None = None,
                                 num_classes: int = 0, *,
                                 progress: bool = True) -> tuple[SegmentationCriterion, dict]:
    """Return the criterion named in the configuration and what it was built from.

    The second value (class weights for ``balanced``) is recorded with the run.

    Raises:
        TrainingConfigError: Unknown name.
    """
    if name == 'cross_entropy':
        return CrossEntropy(), {}
    if name == 'ohem':
        return HardPixelCrossEntropy(), {}
    if name == 'balanced':
        weights = balanced_weights(class_frequencies(dataset, num_classes, progress=progress))
        return CrossEntropy(weights), {'class_weights': [round(w, 4) for w in weights]}
    raise TrainingConfigError(
        f'unknown train.segmentation_loss {name!r}; use one of {", ".join(SEGMENTATION_LOSSES)}')
