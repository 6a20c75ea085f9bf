# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Light-Weight RefineNet decoder: chained residual pooling (CRP) over the encoder taps."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class ChainedResidualPooling(nn.Module):
    """Four stages of [5x5 max-pool, stride 1 -> 1x1 conv], each added to the running sum.

    Args:
        channels: Width of input and output.
        stages: Number of pool/conv stages.
        depthwise: Use depthwise 1x1 convolutions (the cheap variant of the finest level).
    """

    def __init__(self, channels: int, stages: int = 4, *, depthwise: bool = False) -> None:
        super().__init__()
        groups = channels if depthwise else 1
        self.pool = nn.MaxPool2d(kernel_size=5, stride=1, padding=2)
        self.convs = nn.ModuleList(
            nn.Conv2d(channels, channels, 1, groups=groups, bias=False) for _ in range(stages))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Return ``features`` plus every stage's pooled-and-projected path."""
        path = features
        for conv in self.convs:
            path = conv(self.pool(path))
            features = features + path
        return features


class LightWeightRefineNet(nn.Module):
    """Fuse encoder taps coarse to fine into one feature map at the finest tap's stride.

    Args:
        in_channels: Width of each encoder tap, finest first.
        in_strides: Output stride of each tap, finest first; equal strides are summed.
        channels: Decoder width.
        align_corners: Upsampling convention of ``F.interpolate``; the paper's release uses
            False, the hydranets course True. Weights trained with one are subtly off with
            the other.
    """

    def __init__(self, in_channels: list[int], in_strides: list[int],
                 channels: int = 256, *, align_corners: bool = False) -> None:
        super().__init__()
        self.in_strides = list(in_strides)
        self.align_corners = align_corners
        self.projections = nn.ModuleList(
            nn.Conv2d(width, channels, 1, bias=False) for width in in_channels)
        levels = sorted(set(in_strides), reverse=True)
        self.levels = levels
        self.crps = nn.ModuleList(
            ChainedResidualPooling(channels, depthwise=(stride == levels[-1]))
            for stride in levels)
        self.adapts = nn.ModuleList(
            nn.Conv2d(channels, channels, 1, bias=False) for _ in levels[:-1])
        self.activation = nn.ReLU6(inplace=False)

    def forward(self, taps: list[torch.Tensor]) -> torch.Tensor:
        """Return the fused ``channels``-wide map at the finest tap's resolution."""
        projected = [projection(tap) for projection, tap in zip(self.projections, taps)]
        previous: torch.Tensor | None = None
        for level, stride in enumerate(self.levels):
            same_stride = [p for p, s in zip(projected, self.in_strides) if s == stride]
            total = sum(same_stride[1:], same_stride[0])
            if previous is not None:
                previous = F.interpolate(previous, size=total.shape[-2:], mode='bilinear',
                                         align_corners=self.align_corners)
                total = total + previous
            previous = self.crps[level](self.activation(total))
            if level < len(self.adapts):
                previous = self.adapts[level](previous)
        return previous
