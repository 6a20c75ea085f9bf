# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``mtl_export_onnx``: a checkpoint as one ONNX graph for ONNX Runtime, TensorRT or C++.

The graph takes the ``HxWx3`` uint8 RGB frame and returns ``labels`` (uint8), ``depth``
(float32 metres; +Inf too far, -Inf too near, NaN without depth) and, for three-task models,
``normals`` (float32 unit vectors) at the frame's size; the checkpoint's metadata is in the
file's metadata properties.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
import sys

from mtl_perception.cli import image_size, usage_error
from mtl_perception.engines.onnx_export import export_onnx, MAX_BATCH, MAX_SIDE, MIN_SIDE
from mtl_perception.errors import MtlPerceptionError

PROGRAM = 'mtl_export_onnx'
LOGGER = logging.getLogger(PROGRAM)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__.strip())
    parser.add_argument('checkpoint', type=Path, metavar='CHECKPOINT', help='.pt checkpoint')
    parser.add_argument('--output', type=Path, required=True, metavar='MODEL.onnx',
                        help='graph to write (atomically, after it matched the Predictor)')
    parser.add_argument('--input-size', type=image_size(low=MIN_SIDE, high=MAX_SIDE),
                        metavar='HxW',
                        help="network input size (default: the checkpoint's)")
    parser.add_argument('--dynamic-size', action='store_true',
                        help=f'accept frames of any size ({MIN_SIDE}..{MAX_SIDE} pixels a '
                             'side); default: frames of the input size only (what TensorRT '
                             'builds fastest)')
    parser.add_argument('--fp16', action='store_true',
                        help='run the network in float16 inside the graph (GPU/TensorRT; '
                             'pre- and post-processing stay float32)')
    parser.add_argument('--verbose', action='store_true',
                        help="show the exporter's own progress messages (about a hundred "
                             'lines)')
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns 0, 1 when the export fails or disagrees, 2 on bad arguments."""
    logging.basicConfig(level=logging.WARNING, format='%(message)s')
    LOGGER.setLevel(logging.INFO)
    args = _parser().parse_args(argv)
    if args.output.is_dir():
        return usage_error(PROGRAM, f'--output {str(args.output)!r} is a folder; name a file')
    try:
        record = export_onnx(args.checkpoint, args.output, input_size=args.input_size,
                             dynamic_size=args.dynamic_size, half=args.fp16,
                             verbose=args.verbose)
    except (MtlPerceptionError, OSError) as error:
        sys.stderr.write(f'{PROGRAM}: error: {error}\n')
        return 1
    height, width = record['input_size']
    frames = 'any frame size' if record['dynamic_size'] else f'{width}x{height} frames'
    LOGGER.info('wrote %s: outputs %s, network input %dx%d, %s (1 to %d of them per run)%s; '
                'matches the torch Predictor', args.output, ', '.join(record['outputs']), width,
                height, frames, MAX_BATCH, ', float16' if record['half'] else '')
    return 0


if __name__ == '__main__':
    sys.exit(main())
