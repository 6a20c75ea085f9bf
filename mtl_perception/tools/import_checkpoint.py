# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``mtl_import_checkpoint``: the paper's released models and hydranets checkpoints, imported.

The result is an ordinary checkpoint of this project: the node, ``mtl_infer``, ``mtl_eval``
and the Python API run it as they run weights trained here, with identical outputs to the
authors' network (docs/published_weights.md).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
import re
import shlex
import sys

from mtl_perception.cli import image_size, usage_error
from mtl_perception.errors import MtlPerceptionError
from mtl_perception.importers.domains import DOMAINS
from mtl_perception.importers.hydranets import TASKS
from mtl_perception.importers.importer import import_checkpoint
from mtl_perception.weights_file import is_legacy_format

PROGRAM = 'mtl_import_checkpoint'
LOGGER = logging.getLogger(PROGRAM)


def _head_order(text: str) -> list[str]:
    """Parse ``segmentation,depth[,normals]``."""
    return [task.strip() for task in text.split(',')]


def _sha256(text: str) -> str:
    """Parse a hex SHA-256 (64 hex digits, any case)."""
    if not re.fullmatch(r'[0-9a-fA-F]{64}', text.strip()):
        raise argparse.ArgumentTypeError(f'{text!r} is not a SHA-256 (64 hex digits)')
    return text.strip().lower()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROGRAM, description=(
            "Import a checkpoint of the paper's release (DrSleep/multi-task-refinenet "
            'weights/*.ckpt: ExpNYUD_joint, ExpKITTI_joint, ExpNYUDKITTI_joint, ExpNYUD_three) '
            'or of the hydranets course (checkpoint.pth.tar) as an mtl_perception checkpoint '
            'with full metadata. The file is read without running code from it (weights_only); '
            'nothing is downloaded.'))
    parser.add_argument('source', type=Path, metavar='SRC', help='the foreign checkpoint file')
    parser.add_argument('--output', type=Path, required=True, metavar='OUT.pt',
                        help='checkpoint to write (atomically; nothing is left on failure)')
    parser.add_argument('--domain', choices=sorted(DOMAINS),
                        help='classes to keep: required for the 46-class joint model, '
                             'otherwise read from the head (40 = nyud, 6 = kitti)')
    parser.add_argument('--input-size', type=image_size(example='375x1242'), metavar='HxW',
                        help='resize every frame to HxW for the network (default: none; the '
                             "model runs at each frame's own size, as its authors run it)")
    parser.add_argument('--sha256', type=_sha256, metavar='HEX',
                        help='the SHA-256 published beside the file: refuse it unless it '
                             'matches (the only check for pre-1.6 files, which carry no '
                             'checksum)')
    parser.add_argument('--head-order', type=_head_order, metavar='TASKS',
                        help='hydranets only: the task of each head in order, from '
                             f'{",".join(TASKS)}, when the widths cannot tell')
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns 0, 1 when the file cannot be imported, 2 on bad arguments."""
    logging.basicConfig(level=logging.WARNING, format='%(message)s')
    LOGGER.setLevel(logging.INFO)
    args = _parser().parse_args(argv)
    if args.output.is_dir():
        return usage_error(PROGRAM, f'--output {str(args.output)!r} is a folder; name a file')
    command = shlex.join([PROGRAM, *(sys.argv[1:] if argv is None else argv)])
    try:
        metadata = import_checkpoint(args.source, args.output, domain=args.domain,
                                     input_size=args.input_size, head_order=args.head_order,
                                     command=command, sha256=args.sha256)
    except (MtlPerceptionError, OSError) as error:
        sys.stderr.write(f'{PROGRAM}: error: {error}\n')
        return 1
    if args.sha256 is None and is_legacy_format(args.source):
        LOGGER.warning('%s is in the pre-1.6 PyTorch format, which carries no checksum: bytes '
                       'changed inside its weights cannot be detected; pass --sha256 with the '
                       'hash published beside the file to verify it', args.source)
    tasks = 'segmentation, depth' + (', normals' if metadata.arch_kwargs['normals'] else '')
    height, width = metadata.input_size
    size = (f'frames resized to {height}x{width}' if metadata.resize_input else
            "runs at each frame's own size (--input-size HxW to resize every frame)")
    LOGGER.info('wrote %s: %s layout, %s (%d classes), tasks: %s, %s', args.output,
                metadata.created_by['importer'], metadata.dataset, metadata.num_classes, tasks,
                size)
    return 0
