# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""ImageNet MobileNetV2 weights into a fresh encoder: where training starts from.

Two layouts are read: torchvision's ``mobilenet_v2`` state dict (``features.N``, e.g. the
``mobilenet_v2-b0353104.pth`` in torchvision's cache) for the plain encoder, and the paper's
release layout (``layer1`` .. ``layer8``, ``mobilenetv2-e6e8dd43.pth``) for the encoder built
with ``first_block_expansion``. Nothing is ever downloaded.
"""

from __future__ import annotations

from pathlib import Path

from mtl_perception.errors import CheckpointError, ModelConfigError
from mtl_perception.importers.mobilenet import is_release_encoder, release_to_blocks
from mtl_perception.model.encoder import MobileNetV2Encoder
from mtl_perception.weights_file import load_weights_only
import torch
from torchvision.models import mobilenet_v2


def load_imagenet_encoder(encoder: MobileNetV2Encoder, path: str | Path) -> None:
    """Load ImageNet weights from ``path`` into ``encoder`` (strictly, every key).

    Raises:
        ModelConfigError: Missing or unreadable file, a layout that does not match the
            encoder variant (says which ``first_block_expansion`` to use), or weights of
            another network; names the file.
    """
    state = _read_state(Path(path))
    release = is_release_encoder(state)
    if release != encoder.first_block_expansion:
        layout, needed = (('release (layer1..layer8)', 'true') if release
                          else ('torchvision (features.N)', 'false'))
        raise ModelConfigError(
            f'backbone weights {str(path)!r} are in the {layout} layout: build the model '
            f'with first_block_expansion={needed} (training config: '
            f'model.arch_kwargs.first_block_expansion: {needed})')
    if release:
        blocks = release_to_blocks(state, list(encoder.blocks.state_dict()), str(path))
    else:
        blocks = _torchvision_blocks(state, len(encoder.blocks), path)
    encoder.blocks.load_state_dict(blocks, strict=True)


def _torchvision_blocks(state: dict[str, torch.Tensor], count: int,
                        path: str | Path) -> dict[str, torch.Tensor]:
    """Return the first ``count`` feature blocks of a whole torchvision ``mobilenet_v2`` file."""
    network = mobilenet_v2(weights=None)
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise ModelConfigError(
            f'backbone weights {str(path)!r} do not fit torchvision mobilenet_v2: {error}'
        ) from None
    return network.features[:count].state_dict()


def _read_state(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise ModelConfigError(
            f'backbone weights {str(path)!r} not found; pass the path of a torchvision '
            'mobilenet_v2 ImageNet state dict (e.g. mobilenet_v2-b0353104.pth), of the '
            'release-layout mobilenetv2-e6e8dd43.pth, or None')
    try:
        state = load_weights_only(path)
    except CheckpointError as error:
        raise ModelConfigError(f'backbone weights could not be read: {error}') from None
    if not isinstance(state, dict):
        raise ModelConfigError(f'backbone weights {str(path)!r} hold no state dict')
    return state
