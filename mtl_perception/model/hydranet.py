# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The joint segmentation + depth network and the registry that builds it by name."""

from __future__ import annotations

import inspect
from typing import Callable

from mtl_perception.errors import ModelConfigError
from mtl_perception.model.decoder import LightWeightRefineNet
from mtl_perception.model.encoder import MobileNetV2Encoder
from mtl_perception.model.heads import DepthHead, NormalsHead, SegmentationHead
import torch
from torch import nn
from torch.nn import functional as F


class HydraNet(nn.Module):
    """Shared encoder and decoder, one head per task (Nekrasov et al., ICRA 2019).

    With ``pad_input`` (this project's default), inputs of any size are padded on the bottom
    and right to a multiple of the encoder's largest stride and the outputs cropped back.
    Without it, every stride rounds up and the decoder upsamples to each tap's exact size,
    as the paper's released models do; both return maps of ``ceil(H / 4) x ceil(W / 4)``.

    Args:
        encoder: The tapped backbone.
        num_classes: Segmentation classes.
        decoder_channels: Decoder width.
        align_corners: Upsampling convention inside the decoder.
        pad_input: Pad to a multiple of the largest stride (see above).
        depth_decoding: ``"log"`` or ``"abs"``, see :class:`DepthHead`.
        normals: Add the surface-normals head (the paper's three-task model).
    """

    def __init__(self, encoder: MobileNetV2Encoder, *, num_classes: int,
                 decoder_channels: int = 256, align_corners: bool = False,
                 pad_input: bool = True, depth_decoding: str = 'log',
                 normals: bool = False) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = LightWeightRefineNet(encoder.out_channels, encoder.out_strides,
                                            decoder_channels, align_corners=align_corners)
        self.segmentation_head = SegmentationHead(decoder_channels, num_classes)
        self.depth_head = DepthHead(decoder_channels, decoding=depth_decoding)
        self.normals_head = NormalsHead(decoder_channels) if normals else None
        self.num_classes = num_classes
        self.pad_input = pad_input
        self.output_stride = min(encoder.out_strides)
        self.size_divisor = max(encoder.out_strides)

    @property
    def tasks(self) -> tuple[str, ...]:
        """Tasks the network predicts: the keys of ``forward``'s result but ``depth_signed``."""
        return ('segmentation', 'depth') + (('normals',) if self.normals_head else ())

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Predict every task for a normalised ``(B, 3, H, W)`` batch.

        Returns:
            ``{"segmentation": (B, C, h, w) logits, "depth": (B, 1, h, w) metres}`` with
            ``h = ceil(H / 4)`` and ``w = ceil(W / 4)``, plus ``"normals": (B, 3, h, w)``
            unit vectors when the model has that head, and ``"depth_signed"`` (the raw
            output whose absolute value is metres) for ``abs`` depth decoding.
        """
        if image.ndim != 4 or image.shape[1] != 3:
            raise ModelConfigError(
                f'expected a (B, 3, H, W) image batch, got shape {tuple(image.shape)}')
        height, width = image.shape[-2:]
        # sizes from non-negative operands only: an exported graph divides integers with
        # truncation, so -(-h // s) and -h % s (Python's floor semantics) come out wrong there;
        # and no branch on the amount, which a traced graph would fix at the traced size's
        divisor, stride = self.size_divisor, self.output_stride
        if self.pad_input:
            image = F.pad(image, (0, (divisor - width % divisor) % divisor,
                                  0, (divisor - height % divisor) % divisor))
        features = self.decoder(self.encoder(image))
        features = features[..., :(height + stride - 1) // stride, :(width + stride - 1) // stride]
        raw_depth = self.depth_head.raw(features)
        outputs = {
            'segmentation': self.segmentation_head(features),
            'depth': self.depth_head.decode(raw_depth),
        }
        if self.depth_head.decoding == 'abs':  # decoded after upsampling, see DepthHead
            outputs['depth_signed'] = raw_depth
        if self.normals_head is not None:
            outputs['normals'] = self.normals_head(features)
        return outputs


def _mbv2_lwrefinenet(*, num_classes: int, decoder_channels: int = 256,
                      first_block_expansion: bool = False,
                      align_corners: bool = False, pad_input: bool = True,
                      depth_decoding: str = 'log', normals: bool = False) -> HydraNet:
    encoder = MobileNetV2Encoder(first_block_expansion=first_block_expansion)
    return HydraNet(encoder, num_classes=num_classes, decoder_channels=decoder_channels,
                    align_corners=align_corners, pad_input=pad_input,
                    depth_decoding=depth_decoding, normals=normals)


MODEL_BUILDERS: dict[str, Callable[..., nn.Module]] = {
    'mbv2_lwrefinenet': _mbv2_lwrefinenet,
}


def available_models() -> list[str]:
    """Names accepted by :func:`build_model`."""
    return sorted(MODEL_BUILDERS)


def build_model(name: str, *, num_classes: int, **kwargs: object) -> nn.Module:
    """Build a registered network with random weights.

    Training starts the encoder from ImageNet weights with
    ``mtl_perception.importers.backbone.load_imagenet_encoder``.

    Args:
        name: Registry name, see :func:`available_models`.
        num_classes: Segmentation classes.
        **kwargs: Architecture options of the chosen builder: ``decoder_channels``,
            ``first_block_expansion``, ``align_corners``, ``pad_input``, ``depth_decoding``,
            ``normals`` (see :class:`HydraNet`).

    Raises:
        ModelConfigError: Unknown name, bad class count or unknown option.
    """
    if name not in MODEL_BUILDERS:
        raise ModelConfigError(
            f'unknown model {name!r}; available models: {", ".join(available_models())}')
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ModelConfigError(f'num_classes must be a positive integer, got {num_classes!r}')
    builder = MODEL_BUILDERS[name]
    options = set(inspect.signature(builder).parameters) - {'num_classes'}
    unknown = sorted(set(kwargs) - options)
    if unknown:
        raise ModelConfigError(
            f'model {name!r} has no option(s) {unknown}; its options are {sorted(options)}')
    return builder(num_classes=num_classes, **kwargs)
