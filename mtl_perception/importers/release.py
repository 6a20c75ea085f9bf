# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The paper's released checkpoints (DrSleep/multi-task-refinenet ``weights/*.ckpt``).

Their ``Net`` names the encoder ``layer1`` .. ``layer8`` (see :mod:`.mobilenet`), the
projections to 256 channels ``conv3`` .. ``conv8`` (one per tap, finest first), the CRP blocks
``crp4`` (stride 32) .. ``crp1`` (stride 4, depthwise), the adapters ``conv_adapt4`` ..
``conv_adapt2`` and the heads ``pre_segm``/``segm``, ``pre_depth``/``depth`` and, in the
three-task model, ``pre_normal``/``normal``. It upsamples with ``align_corners=False`` to each
tap's exact size and decodes depth as ``|output|`` metres.
"""

from __future__ import annotations

from mtl_perception.errors import CheckpointImportError
from mtl_perception.importers.foreign import ForeignModel
from mtl_perception.importers.mobilenet import encoder_prefixes
import torch

NAME = 'release'
ARCH_KWARGS = {'first_block_expansion': True, 'align_corners': False, 'pad_input': False,
               'depth_decoding': 'abs'}
_HEADS = {'segmentation_head': 'segm', 'depth_head': 'depth', 'normals_head': 'normal'}


_DECODER = ('conv3.', 'conv8.', 'crp1.', 'crp4.', 'conv_adapt', 'pre_segm.', 'segm.',
            'pre_depth.', 'depth.')


def matches(state: dict[str, torch.Tensor]) -> bool:
    """Whether ``state`` has the release's encoder and any of its decoder or head names.

    A file with some of them missing still matches, so that the missing keys are named
    rather than the file being taken for something else.
    """
    return 'layer1.0.weight' in state and any(key.startswith(_DECODER) for key in state)


def describe(state: dict[str, torch.Tensor], *, head_order: list[str] | None = None,
             source: str = '') -> ForeignModel:
    """Read class count and tasks from the head shapes; name every key's counterpart.

    Raises:
        CheckpointImportError: ``head_order`` given (the release's heads are named, not
            ordered), or the segmentation head is missing.
    """
    if head_order is not None:
        raise CheckpointImportError(
            f'{source}: --head-order is for hydranets checkpoints; the release names its heads')
    if 'segm.weight' not in state:
        raise CheckpointImportError(
            f"{source}: a release checkpoint with gaps: 'segm.weight' (the segmentation head, "
            'which also gives the class count) is missing')
    prefixes = encoder_prefixes(target='encoder.blocks.')
    prefixes += [(f'decoder.projections.{i}.', f'conv{i + 3}.') for i in range(6)]
    for level in range(4):
        prefixes += [(f'decoder.crps.{level}.convs.{stage}.',
                      f'crp{4 - level}.0.{stage + 1}_outvar_dimred.') for stage in range(4)]
    prefixes += [(f'decoder.adapts.{i}.', f'conv_adapt{4 - i}.') for i in range(3)]
    for ours, theirs in _HEADS.items():
        prefixes += [(f'{ours}.pre.', f'pre_{theirs}.'), (f'{ours}.out.', f'{theirs}.')]
    return ForeignModel(layout=NAME, num_classes=int(state['segm.weight'].shape[0]),
                        normals='normal.weight' in state,
                        arch_kwargs={**ARCH_KWARGS, 'normals': 'normal.weight' in state},
                        prefixes=prefixes)
