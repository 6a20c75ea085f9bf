"""Task heads: depthwise 1x1 -> ReLU6 -> 3x3 convolution, one per task."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class TaskHead(nn.Module):
    """The Light-Weight RefineNet head shape, shared by both tasks.

    Args:
        in_channels: Width of the decoder output.
        out_channels: Channels this task predicts.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.pre = nn.Conv2d(in_channels, in_channels, 1, groups=in_channels, bias=False)
        self.activation = nn.ReLU6(inplace=False)
        self.out = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=True)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Return the raw task output at the decoder's resolution."""
        return self.out(self.activation(self.pre(features)))


class SegmentationHead(TaskHead):
    """Per-class logits."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__(in_channels, num_classes)


class DepthHead(TaskHead):
    """Metric depth in metres, made non-negative by a softplus that keeps gradients alive."""

    def __init__(self, in_channels: int) -> None:
        super().__init__(in_channels, 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Return depth in metres, ``>= 0``."""
        return F.softplus(super().forward(features))
