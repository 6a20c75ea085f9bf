# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Task heads: depthwise 1x1 -> ReLU6 -> 3x3 convolution, one per task."""

from __future__ import annotations

from mtl_perception.errors import ModelConfigError
import torch
from torch import nn
from torch.nn import functional as F

#: How a depth head turns its raw output into metres.
DEPTH_DECODINGS = ('log', 'abs')


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
    """Metric depth in metres.

    ``decoding="log"`` (this project's training): the head predicts log-depth, exponentiated.
    Depth spans two orders of magnitude (0.5 m indoors to 80 m on a road). A linear output
    must move its bias by tens of metres, which adaptive optimisers do in steps of the
    learning rate; in log space every step is a relative change, the same for near and far.
    The log is clamped to ``LOG_RANGE`` so that depth stays positive and finite.

    ``decoding="abs"``: metres are the absolute value of the raw output, as the paper's
    released models and the hydranets course decode them. Their authors take it after
    upsampling to the frame, which differs where the raw output changes sign between
    neighbouring cells; :class:`~mtl_perception.model.hydranet.HydraNet` therefore also
    returns the raw output of such a head (``depth_signed``) for the Predictor to upsample.
    """

    LOG_RANGE = (-8.0, 8.0)

    def __init__(self, in_channels: int, *, decoding: str = 'log') -> None:
        super().__init__(in_channels, 1)
        if decoding not in DEPTH_DECODINGS:
            raise ModelConfigError(
                f'unknown depth decoding {decoding!r}; use one of {DEPTH_DECODINGS}')
        self.decoding = decoding

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Return depth in metres, ``>= 0``."""
        return self.decode(self.raw(features))

    def raw(self, features: torch.Tensor) -> torch.Tensor:
        """Return the head's output before decoding."""
        return super().forward(features)

    def decode(self, raw: torch.Tensor) -> torch.Tensor:
        """Turn the raw output into metres."""
        if self.decoding == 'abs':
            return raw.abs()
        return torch.exp(raw.clamp(*self.LOG_RANGE))


class NormalsHead(TaskHead):
    """Surface normals as unit vectors ``(x, y, z)`` in the camera's frame.

    The vectors are normalised here so that every consumer (loss, Predictor) sees unit
    length; a raw output of zero length stays zero rather than becoming NaN.
    """

    def __init__(self, in_channels: int) -> None:
        super().__init__(in_channels, 3)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Return ``(B, 3, h, w)`` unit normals."""
        return F.normalize(super().forward(features), dim=1, eps=1e-6)
