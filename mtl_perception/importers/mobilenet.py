# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The MobileNetV2 key layout of the paper's release and of the hydranets course.

Both write the encoder as ``layer1`` (stem conv-bn-relu6) and ``layer2`` .. ``layer8`` (the
inverted residual groups), every block as ``output.0`` (1x1 expand conv-bn-relu6),
``output.1`` (3x3 depthwise conv-bn-relu6) and ``output.2`` (1x1 project conv-bn); the first
block keeps its expansion conv. This module names, for each key of this project's encoder
(built with ``first_block_expansion=True``), the key it has in that layout.
"""

from __future__ import annotations

from mtl_perception.errors import ModelConfigError
from mtl_perception.importers.mapping import map_state
import torch

#: Inverted residual blocks in ``layer2`` .. ``layer8`` (MobileNetV2's ``n`` column).
GROUP_REPEATS = (1, 2, 3, 4, 3, 3, 1)


def encoder_prefixes(source: str = '', target: str = '') -> list[tuple[str, str]]:
    """``(our prefix, release prefix)`` pairs covering every encoder key.

    Args:
        source: Prefix of the release-layout keys (e.g. ``'0.'`` in the hydranets layout).
        target: Prefix of our encoder's block keys (e.g. ``'encoder.blocks.'``).
    """
    pairs = [(f'{target}0.', f'{source}layer1.')]
    block = 1
    for group, repeats in enumerate(GROUP_REPEATS, start=2):
        for index in range(repeats):
            ours, theirs = f'{target}{block}.conv.', f'{source}layer{group}.{index}.output.'
            pairs += [(f'{ours}0.', f'{theirs}0.'), (f'{ours}1.', f'{theirs}1.'),
                      (f'{ours}2.', f'{theirs}2.0.'), (f'{ours}3.', f'{theirs}2.1.')]
            block += 1
    return pairs


def is_release_encoder(state: dict[str, object]) -> bool:
    """Whether a state dict uses the ``layer1`` .. ``layer8`` encoder layout."""
    return any(key.startswith('layer1.') for key in state)


def release_to_blocks(state: dict[str, torch.Tensor], expected: list[str],
                      source: str) -> dict[str, torch.Tensor]:
    """Rename a release-layout ImageNet encoder (``mobilenetv2-e6e8dd43.pth``) to our blocks.

    Keys outside ``layer1`` .. ``layer8`` (a classifier, if the file has one) are not part of
    the encoder; any of them makes the file unsuitable rather than silently dropped.

    Args:
        state: The file's state dict.
        expected: Keys of the expanded encoder's ``blocks``, which the result will have.
        source: The file, for messages.

    Raises:
        ModelConfigError: The file lacks encoder keys or holds others; names the file.
    """
    mapped = map_state(state, expected, encoder_prefixes())
    if mapped.missing or mapped.unexpected:
        raise ModelConfigError(
            f'backbone weights {source!r} are not a MobileNetV2 encoder in the release layout: '
            f'{mapped.problems()}')
    return mapped.state
