# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The release network split into ``enc`` and ``dec`` (adithyagaurav/Multi_Task_Learning).

That repository's ``Hydranet`` holds the release's encoder as ``enc`` (``layer1`` ..
``layer8``) and its decoder and heads as ``dec`` (``conv3`` .. ``conv8``, ``crp1`` ..
``crp4``, ``conv_adapt2`` .. ``conv_adapt4``, ``pre_segm``/``segm``, ``pre_depth``/``depth``),
under the release's own names: it loads the release checkpoints into both with
``strict=False``, and its ``train.py`` saves ``hydranet.state_dict()`` (a plain state dict).
Its forward pass is the release's (``align_corners=False`` to each tap's exact size; depth
read as ``|output|``), returned as ``(depth, segm)``; the heads are named, so their order
does not matter here.
"""

from __future__ import annotations

import dataclasses

from mtl_perception.importers import release
from mtl_perception.importers.foreign import ForeignModel
import torch

NAME = 'multi_task_learning'
ENCODER, DECODER = 'enc.', 'dec.'


def matches(state: dict[str, torch.Tensor]) -> bool:
    """Whether ``state`` holds the release's encoder under ``enc.`` and more under ``dec.``."""
    return f'{ENCODER}layer1.0.weight' in state and any(key.startswith(DECODER)
                                                        for key in state)


def describe(state: dict[str, torch.Tensor], *, head_order: list[str] | None = None,
             source: str = '') -> ForeignModel:
    """Describe it as the release it is, with every release key under its ``enc.``/``dec.``.

    Raises:
        CheckpointImportError: As :func:`release.describe` (``--head-order`` given, no
            segmentation head).
    """
    unprefixed = {key.split('.', 1)[1]: value for key, value in state.items()
                  if key.startswith((ENCODER, DECODER))}
    model = release.describe(unprefixed, head_order=head_order, source=source)
    prefixes = [(ours, (ENCODER if theirs.startswith('layer') else DECODER) + theirs)
                for ours, theirs in model.prefixes]
    return dataclasses.replace(model, layout=NAME, prefixes=prefixes)
