"""The joint segmentation + depth network and the registry that builds it by name."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Callable

from mtl_perception.errors import ModelConfigError
from mtl_perception.model.decoder import LightWeightRefineNet
from mtl_perception.model.encoder import MobileNetV2Encoder
from mtl_perception.model.heads import DepthHead, SegmentationHead
import torch
from torch import nn
from torch.nn import functional as F


class HydraNet(nn.Module):
    """Shared encoder and decoder, one head per task (Nekrasov et al., ICRA 2019).

    Inputs of any size are padded on the bottom and right to a multiple of the encoder's
    largest stride and the outputs cropped back, so ``forward`` returns maps of
    ``ceil(H / 4) x ceil(W / 4)`` for every ``H x W``.
    """

    def __init__(self, encoder: MobileNetV2Encoder, *, num_classes: int,
                 decoder_channels: int = 256) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = LightWeightRefineNet(encoder.out_channels, encoder.out_strides,
                                            decoder_channels)
        self.segmentation_head = SegmentationHead(decoder_channels, num_classes)
        self.depth_head = DepthHead(decoder_channels)
        self.num_classes = num_classes
        self.output_stride = min(encoder.out_strides)
        self.size_divisor = max(encoder.out_strides)

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Predict both tasks for a normalised ``(B, 3, H, W)`` batch.

        Returns:
            ``{"segmentation": (B, C, h, w) logits, "depth": (B, 1, h, w) metres}`` with
            ``h = ceil(H / 4)`` and ``w = ceil(W / 4)``.
        """
        if image.ndim != 4 or image.shape[1] != 3:
            raise ModelConfigError(
                f'expected a (B, 3, H, W) image batch, got shape {tuple(image.shape)}')
        height, width = image.shape[-2:]
        pad_bottom = -height % self.size_divisor
        pad_right = -width % self.size_divisor
        if pad_bottom or pad_right:
            image = F.pad(image, (0, pad_right, 0, pad_bottom))
        features = self.decoder(self.encoder(image))
        out_height = -(-height // self.output_stride)
        out_width = -(-width // self.output_stride)
        features = features[..., :out_height, :out_width]
        return {
            'segmentation': self.segmentation_head(features),
            'depth': self.depth_head(features),
        }


def _mbv2_lwrefinenet(*, num_classes: int, backbone_weights: str | Path | None = None,
                      decoder_channels: int = 256) -> HydraNet:
    encoder = MobileNetV2Encoder(backbone_weights=backbone_weights)
    return HydraNet(encoder, num_classes=num_classes, decoder_channels=decoder_channels)


MODEL_BUILDERS: dict[str, Callable[..., nn.Module]] = {
    'mbv2_lwrefinenet': _mbv2_lwrefinenet,
}


def available_models() -> list[str]:
    """Names accepted by :func:`build_model`."""
    return sorted(MODEL_BUILDERS)


def build_model(name: str, *, num_classes: int, backbone_weights: str | Path | None = None,
                **kwargs: object) -> nn.Module:
    """Build a registered network.

    Args:
        name: Registry name, see :func:`available_models`.
        num_classes: Segmentation classes.
        backbone_weights: Optional local file with ImageNet weights for the encoder; nothing is
            ever downloaded.
        **kwargs: Architecture options of the chosen builder (e.g. ``decoder_channels``).

    Raises:
        ModelConfigError: Unknown name, bad class count or unknown option.
    """
    if name not in MODEL_BUILDERS:
        raise ModelConfigError(
            f'unknown model {name!r}; available models: {", ".join(available_models())}')
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ModelConfigError(f'num_classes must be a positive integer, got {num_classes!r}')
    builder = MODEL_BUILDERS[name]
    options = set(inspect.signature(builder).parameters) - {'num_classes', 'backbone_weights'}
    unknown = sorted(set(kwargs) - options)
    if unknown:
        raise ModelConfigError(
            f'model {name!r} has no option(s) {unknown}; its options are {sorted(options)}')
    return builder(num_classes=num_classes, backbone_weights=backbone_weights, **kwargs)
