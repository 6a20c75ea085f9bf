# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The optimiser and the learning-rate schedule of a training run.

The encoder (ImageNet features) learns at ``encoder_lr_ratio`` times the decoder's rate, as
in the paper's training; the schedule warms up linearly, then decays on a cosine to 1 %.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from mtl_perception.training.errors import TrainingConfigError
import torch
from torch import nn

OPTIMIZERS = ('adam', 'sgd')


def param_groups(model: nn.Module, train: dict[str, Any]) -> list[dict[str, Any]]:
    """Two groups: the encoder's parameters at the reduced rate, everything else at the base."""
    encoder = [p for n, p in model.named_parameters() if n.startswith('encoder.')]
    rest = [p for n, p in model.named_parameters() if not n.startswith('encoder.')]
    decoder_lr = float(train['decoder_lr'])
    return [{'params': encoder, 'lr': decoder_lr * float(train['encoder_lr_ratio'])},
            {'params': rest, 'lr': decoder_lr}]


def build_optimizer(model: nn.Module, train: dict[str, Any]) -> torch.optim.Optimizer:
    """Build the optimiser of ``train.optimizer`` over :func:`param_groups`.

    ``adam`` is AdamW, ``sgd`` is SGD with momentum 0.9.

    Raises:
        TrainingConfigError: ``train.optimizer`` names neither.
    """
    groups = param_groups(model, train)
    if train['optimizer'] == 'adam':
        return torch.optim.AdamW(groups, weight_decay=float(train['weight_decay']))
    if train['optimizer'] == 'sgd':
        return torch.optim.SGD(groups, momentum=0.9, weight_decay=float(train['weight_decay']))
    raise TrainingConfigError(f'train.optimizer: unknown optimizer {train["optimizer"]!r}; '
                              f'use one of {", ".join(OPTIMIZERS)}')


def warmup_cosine(total_steps: int, warmup: int) -> Callable[[int], float]:
    """Factor of the base rate at each step: linear warm-up, then cosine decay to 1 %."""
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * progress))
    return factor


def build_scheduler(optimizer: torch.optim.Optimizer, total_steps: int,
                    warmup: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Return the :func:`warmup_cosine` schedule over ``total_steps``."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine(total_steps, warmup))
