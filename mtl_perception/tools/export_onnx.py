# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``mtl_export_onnx``: a checkpoint as one graph for ONNX Runtime, TensorRT, OpenVINO or C++.

The graph takes the ``HxWx3`` uint8 RGB frame and returns ``labels`` (uint8), ``depth``
(float32 metres; +Inf too far, -Inf too near, NaN without depth) and, for three-task models,
``normals`` (float32 unit vectors) at the frame's size; the checkpoint's metadata is in the
file. ``--precision fp32`` and ``fp16`` write ONNX; ``int8`` writes OpenVINO IR (MODEL.xml and
MODEL.bin) quantised on calibration frames and checked against FP32 on held-out ones.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
import sys

from mtl_perception.checkpoint import load_checkpoint
from mtl_perception.cli import image_size, usage_error
from mtl_perception.engines.calibration import (
    CalibrationFrames, DEFAULT_FRAMES, HOLD_OUT_EVERY, MIN_FRAMES, rendered_frames, split_frames
)
from mtl_perception.engines.int8_export import DEPTH_BOUND, export_int8, LABELS_BOUND
from mtl_perception.engines.onnx_export import export_onnx, MAX_BATCH, MAX_SIDE, MIN_SIDE
from mtl_perception.errors import MtlPerceptionError
from mtl_perception.safe_output import room_problem
from mtl_perception.tools.calibration_sources import read_calibration_frames

PROGRAM = 'mtl_export_onnx'
LOGGER = logging.getLogger(PROGRAM)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__.strip())
    parser.add_argument('checkpoint', type=Path, metavar='CHECKPOINT', help='.pt checkpoint')
    parser.add_argument('--output', type=Path, required=True, metavar='MODEL.onnx',
                        help='graph to write (atomically, after it matched the Predictor); '
                             'MODEL.xml for --precision int8 (MODEL.bin is written beside it)')
    parser.add_argument('--precision', choices=('fp32', 'fp16', 'int8'), default='fp32',
                        help='fp32; fp16: the network in float16 inside the graph (GPU/'
                             'TensorRT); int8: OpenVINO IR for the CPU (backend openvino), '
                             f'refused unless labels agree with FP32 on >= '
                             f'{100 * LABELS_BOUND:.0f} %% and depth on >= '
                             f'{100 * DEPTH_BOUND:.0f} %% of held-out pixels '
                             '(default: %(default)s)')
    parser.add_argument('--calibration', type=Path, metavar='SRC',
                        help='int8: frames of your camera to calibrate on: an image folder or '
                             'image, a video or a rosbag2 (every '
                             f'{HOLD_OUT_EVERY}th frame is held out for the check); default: '
                             'rendered frames of the training seeds, for checkpoints trained '
                             'on rendered streets (others need SRC)')
    parser.add_argument('--calibration-frames', type=int, default=DEFAULT_FRAMES * 4 // 3,
                        metavar='N', help=f'int8: frames taken from SRC, spread evenly (at '
                                          f'least {MIN_FRAMES}; default: %(default)s)')
    parser.add_argument('--calibration-topic', metavar='TOPIC',
                        help="int8: the bag's image topic (default: its only one)")
    parser.add_argument('--input-size', type=image_size(low=MIN_SIDE, high=MAX_SIDE),
                        metavar='HxW',
                        help="network input size (default: the checkpoint's)")
    parser.add_argument('--dynamic-size', action='store_true',
                        help=f'accept frames of any size ({MIN_SIDE}..{MAX_SIDE} pixels a '
                             'side); default: frames of the input size only (what TensorRT '
                             'builds fastest)')
    parser.add_argument('--fp16', action='store_true', help='same as --precision fp16')
    parser.add_argument('--verbose', action='store_true',
                        help="show the exporter's own progress messages (about a hundred "
                             'lines)')
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns 0, 1 when the export fails or disagrees, 2 on bad arguments."""
    logging.basicConfig(level=logging.WARNING, format='%(message)s')
    LOGGER.setLevel(logging.INFO)
    logging.getLogger('mtl_perception').setLevel(logging.INFO)
    args = _parser().parse_args(argv)
    precision = 'fp16' if args.fp16 else args.precision
    if args.output.is_dir():
        return usage_error(PROGRAM, f'--output {str(args.output)!r} is a folder; name a file')
    if precision == 'int8' and args.output.suffix.lower() != '.xml':
        return usage_error(PROGRAM, '--precision int8 writes OpenVINO IR: name --output '
                                    'MODEL.xml (MODEL.bin goes beside it)')
    if precision != 'int8' and args.calibration:
        return usage_error(PROGRAM, '--calibration applies to --precision int8 only')
    if args.calibration_frames < MIN_FRAMES:
        return usage_error(PROGRAM, f'--calibration-frames must be at least {MIN_FRAMES}')
    room = room_problem(args.output.parent, (1 if precision == 'int8' else 2)
                        * args.checkpoint.stat().st_size) if args.checkpoint.is_file() else None
    if room is not None:  # before minutes of exporting and quantising, not after
        sys.stderr.write(f'{PROGRAM}: error: --output {args.output}: {room}\n')
        return 1
    try:
        if precision == 'int8':
            record = export_int8(args.checkpoint, args.output, _calibration(args),
                                 input_size=args.input_size, dynamic_size=args.dynamic_size)
        else:
            record = export_onnx(args.checkpoint, args.output, input_size=args.input_size,
                                 dynamic_size=args.dynamic_size, half=precision == 'fp16',
                                 verbose=args.verbose)
    except MtlPerceptionError as error:
        sys.stderr.write(f'{PROGRAM}: error: {error}\n')
        return 1
    except OSError as error:  # the disk filled up while writing
        sys.stderr.write(f'{PROGRAM}: error: cannot write --output {args.output}: '
                         f'{error.strerror or error}; nothing was written\n')
        return 1
    height, width = record['input_size']
    frames = 'any frame size' if record['dynamic_size'] else f'{width}x{height} frames'
    checked = 'matches the torch Predictor'
    if precision == 'int8':
        held_out = record['quantization']['held_out']
        checked = (f'INT8 agrees with FP32 on {held_out["frames"]} held-out frames: labels '
                   f'{held_out["labels_agree"]:.2%}, depth {held_out["depth_agree"]:.2%}')
    LOGGER.info('wrote %s: outputs %s, network input %dx%d, %s (1 to %d of them per run)%s; '
                '%s', args.output, ', '.join(record['outputs']), width, height, frames,
                MAX_BATCH, {'fp16': ', float16', 'int8': ', int8'}.get(precision, ''), checked)
    return 0


def _calibration(args: argparse.Namespace) -> CalibrationFrames:
    """Return the frames to calibrate on: the user's (``--calibration``) or rendered ones."""
    if args.calibration is None:
        metadata = load_checkpoint(args.checkpoint).metadata
        size = args.input_size or tuple(metadata.input_size)
        return rendered_frames(metadata, str(args.checkpoint), size,
                               args.calibration_frames * 3 // 4)
    frames = read_calibration_frames(args.calibration, args.calibration_frames,
                                     args.calibration_topic)
    size = None
    if not args.dynamic_size:
        size = args.input_size or tuple(load_checkpoint(args.checkpoint).metadata.input_size)
    return split_frames(frames, str(args.calibration), size)
