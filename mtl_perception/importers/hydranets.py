# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Training checkpoints of the hydranets course (``checkpoint.pth.tar``).

The course saves ``nn.DataParallel(nn.Sequential(encoder, decoder))`` as
``{'state_dict': sd, 'epoch': N, ...}``: keys ``module.0.layerN...`` (the release encoder,
see :mod:`.mobilenet`) and ``module.1.`` decoder keys: ``stem_convs.K`` (projections, coarsest
tap first), ``crp_blocks.K.0`` (coarse to fine, the last depthwise), ``adapt_convs.K`` and
``heads.K.{0,2}`` in the order of the course's ``num_classes`` tuple, e.g. ``(40, 1)``:
segmentation, then depth. It upsamples with ``align_corners=True``; depth is ``|output|``.
"""

from __future__ import annotations

import re

from mtl_perception.errors import CheckpointImportError
from mtl_perception.importers.foreign import ForeignModel
from mtl_perception.importers.mobilenet import encoder_prefixes
import torch

NAME = 'hydranets'
ARCH_KWARGS = {'first_block_expansion': True, 'align_corners': True, 'pad_input': False,
               'depth_decoding': 'abs'}
TASKS = ('segmentation', 'depth', 'normals')
_HEAD = re.compile(r'1\.heads\.(\d+)\.2\.weight')


def matches(state: dict[str, torch.Tensor]) -> bool:
    """Whether ``state`` is a ``Sequential(encoder, decoder)`` of the course."""
    return '0.layer1.0.weight' in state and '1.stem_convs.0.weight' in state


def head_widths(state: dict[str, torch.Tensor]) -> list[int]:
    """Output channels of each head, in head order."""
    found = {int(m.group(1)): int(value.shape[0]) for key, value in state.items()
             if (m := _HEAD.fullmatch(key))}
    return [found[index] for index in sorted(found)]


def assign_tasks(widths: list[int], order: list[str] | None, source: str) -> list[str]:
    """Name the task of each head: by ``order`` if given, else from the widths.

    One 1-channel head is depth; a 3-channel head beside a segmentation head is normals.
    When that leaves doubt (two 3-channel heads), ``order`` must say.

    Raises:
        CheckpointImportError: Unknown or doubtful head order; the message shows the widths.
    """
    if order is not None:
        fits = (len(order) == len(set(order)) == len(widths) and set(order) <= set(TASKS)
                and {'segmentation', 'depth'} <= set(order))
        if not fits:
            raise CheckpointImportError(
                f'{source}: --head-order {",".join(order)} does not fit heads of widths '
                f'{widths}: name each head once, from {TASKS}, segmentation and depth included')
        return list(order)
    tasks = ['depth' if width == 1 else None for width in widths]
    rest = [i for i, task in enumerate(tasks) if task is None]
    if tasks.count('depth') != 1 or len(rest) not in (1, 2):
        raise CheckpointImportError(
            f'{source}: heads of widths {widths}: expected one depth head (1 channel) and a '
            'segmentation head, optionally a normals head (3 channels)')
    if len(rest) == 1:
        tasks[rest[0]] = 'segmentation'
    else:
        threes = [i for i in rest if widths[i] == 3]
        if len(threes) != 1:
            raise CheckpointImportError(
                f'{source}: heads of widths {widths}: cannot tell segmentation from normals; '
                'say which with --head-order (e.g. segmentation,depth,normals)')
        tasks[threes[0]] = 'normals'
        tasks[next(i for i in rest if i != threes[0])] = 'segmentation'
    return tasks


def describe(state: dict[str, torch.Tensor], *, head_order: list[str] | None = None,
             source: str = '') -> ForeignModel:
    """Read class count and tasks from the heads; name every key's counterpart."""
    widths = head_widths(state)
    tasks = assign_tasks(widths, head_order, source)
    prefixes = encoder_prefixes(source='0.', target='encoder.blocks.')
    prefixes += [(f'decoder.projections.{i}.', f'1.stem_convs.{5 - i}.') for i in range(6)]
    for level in range(4):
        prefixes += [(f'decoder.crps.{level}.convs.{stage}.',
                      f'1.crp_blocks.{level}.0.{stage + 1}_outvar_dimred.') for stage in range(4)]
    prefixes += [(f'decoder.adapts.{i}.', f'1.adapt_convs.{i}.') for i in range(3)]
    for index, task in enumerate(tasks):
        prefixes += [(f'{task}_head.pre.', f'1.heads.{index}.0.'),
                     (f'{task}_head.out.', f'1.heads.{index}.2.')]
    normals = 'normals' in tasks
    return ForeignModel(layout=NAME, num_classes=widths[tasks.index('segmentation')],
                        normals=normals, arch_kwargs={**ARCH_KWARGS, 'normals': normals},
                        prefixes=prefixes)
