# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""MobileNetV2 encoder that exposes its intermediate feature maps ("taps")."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torchvision.models import mobilenet_v2
from torchvision.models.mobilenetv2 import InvertedResidual
from torchvision.ops import Conv2dNormActivation

#: Output strides whose feature maps the decoder consumes.
TAP_STRIDES = (4, 8, 16, 32)


@dataclass(frozen=True)
class Tap:
    """A feature map taken from the encoder: after block ``index``, at ``stride``."""

    index: int
    stride: int
    channels: int


def _block_stride_and_channels(block: nn.Module) -> tuple[int, int]:
    """Read a block's spatial stride and output width from the convolutions it contains."""
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    stride = 1
    for conv in convs:
        stride *= conv.stride[0]
    return stride, convs[-1].out_channels


def find_taps(blocks: nn.Sequential, strides: tuple[int, ...] = TAP_STRIDES) -> list[Tap]:
    """Find the last inverted residual of every (stride, width) group at ``strides``.

    MobileNetV2 has two width groups at strides 16 (64, 96) and 32 (160, 320); the decoder
    sums the taps of equal stride, as in Light-Weight RefineNet. The stem and the final
    1x1 expansion to 1280 channels (a classifier feature) are never tapped.
    """
    taps: list[Tap] = []
    stride = 1
    for index, block in enumerate(blocks):
        block_stride, channels = _block_stride_and_channels(block)
        stride *= block_stride
        if not isinstance(block, InvertedResidual) or stride not in strides:
            continue
        if taps and taps[-1].stride == stride and taps[-1].channels == channels:
            taps[-1] = Tap(index, stride, channels)
        else:
            taps.append(Tap(index, stride, channels))
    return taps


def _expand_first_block(blocks: nn.Sequential) -> None:
    """Give the first inverted residual (expansion 1) the 1x1 expansion conv it lacks.

    The paper's released networks (and the ImageNet file they start from) keep a 32->32 1x1
    conv + BN + ReLU6 in front of the first block's depthwise conv; torchvision drops it as
    an identity expansion. Adding it here makes the block's layout that of every later block.
    """
    first = next(block for block in blocks if isinstance(block, InvertedResidual))
    width = first.conv[0][0].in_channels
    first.conv = nn.Sequential(
        Conv2dNormActivation(width, width, kernel_size=1, activation_layer=nn.ReLU6),
        *first.conv)


class MobileNetV2Encoder(nn.Module):
    """torchvision MobileNetV2 features up to the last inverted residual (320 channels).

    The final 1x1 convolution to 1280 channels serves classification only and is dropped.
    The encoder starts random; ImageNet weights are loaded by
    ``mtl_perception.importers.backbone.load_imagenet_encoder``.

    Args:
        first_block_expansion: Build the released models' encoder variant (see
            :func:`_expand_first_block`); 1,088 more parameters.
    """

    def __init__(self, *, first_block_expansion: bool = False) -> None:
        super().__init__()
        self.first_block_expansion = first_block_expansion
        network = mobilenet_v2(weights=None)
        if first_block_expansion:
            _expand_first_block(network.features)
        taps = find_taps(network.features)
        self.blocks = network.features[:taps[-1].index + 1]
        self.taps = taps
        self._tap_indices = frozenset(tap.index for tap in taps)

    @property
    def out_channels(self) -> list[int]:
        """Width of each tap, in the order ``forward`` returns them."""
        return [tap.channels for tap in self.taps]

    @property
    def out_strides(self) -> list[int]:
        """Output stride of each tap, in the order ``forward`` returns them."""
        return [tap.stride for tap in self.taps]

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        """Return the tapped feature maps, finest first."""
        features = []
        for index, block in enumerate(self.blocks):
            image = block(image)
            if index in self._tap_indices:
                features.append(image)
        return features
