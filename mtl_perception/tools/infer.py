# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``mtl_infer``: offline inference on images, folders of images and videos.

Per frame it can write pictures, class ids, metric depth and a semantic point cloud; per video
or folder, one MP4 and one GIF of the frames stacked as the seed projects show them (image,
segmentation, depth, class legend, depth colour bar).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import importlib.util
import logging
import os
from pathlib import Path

from mtl_perception.checkpoint import ModelMetadata
from mtl_perception.cli import image_size
from mtl_perception.default_model import DEFAULT_MODEL_FILE, default_model_path
from mtl_perception.engines import backend_choices, backend_help, PRECISIONS
from mtl_perception.engines.contract import Engine
from mtl_perception.engines.loading import load_engine
from mtl_perception.engines.torch_engine import Predictor
from mtl_perception.errors import ExportCacheError, MtlPerceptionError
from mtl_perception.formats.images import write_png
from mtl_perception.geometry import Intrinsics
from mtl_perception.holds import hold_if_asked
from mtl_perception.labels import get_class_set
from mtl_perception.model import build_model
from mtl_perception.process_signals import INTERRUPTED_EXIT, signals_deferred
from mtl_perception.tools.errors import UnreadableInputError, VideoOutputError
from mtl_perception.tools.frame_sources import collect_sequences, FrameSelection, Sequence
from mtl_perception.tools.infer_outputs import (FramePictures, intrinsics_for, StackedFrames,
                                                write_frame_cloud, write_frame_files)
from mtl_perception.tools.video_sinks import choose_codec, GifSink, Mp4Sink
from mtl_perception.visualize import depth_colour_bar, legend
import torch
from tqdm import tqdm

UNTRAINED_INPUT_SIZE = (192, 640)
UNTRAINED_DEPTH_RANGE = (0.5, 80.0)
#: Frame rate of image folders (KITTI's cameras) and of videos that do not state theirs.
DEFAULT_FPS = 10.0

log = logging.getLogger('mtl_infer')


def untrained_predictor(device: str, input_size: tuple[int, int] | None = None) -> Predictor:
    """Build a randomly initialised network (seed 0, synthetic classes) for smoke runs."""
    classes = get_class_set('synthetic')
    torch.manual_seed(0)
    model = build_model('mbv2_lwrefinenet', num_classes=classes.num_classes)
    metadata = ModelMetadata(
        arch='mbv2_lwrefinenet', num_classes=classes.num_classes, class_names=classes.names,
        palette=classes.colours, input_size=UNTRAINED_INPUT_SIZE,
        depth_range=UNTRAINED_DEPTH_RANGE, dataset='none (random initialisation)')
    return Predictor(model, metadata, device=device, input_size=input_size)


def _field_of_view(text: str) -> float:
    """Parse a horizontal field of view in degrees, strictly between 0 and 180."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a number of degrees') from None
    if not 0.0 < value < 180.0:
        raise argparse.ArgumentTypeError(f'{text!r}: must be between 0 and 180 degrees')
    return value


def _count(minimum: int):
    """Make an argparse type for whole numbers of at least ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'{text!r} is not a whole number') from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f'{text!r}: must be at least {minimum}')
        return value
    return parse


def _frame_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a number of frames per second') \
            from None
    if not 0.0 < value <= 1000.0:
        raise argparse.ArgumentTypeError(f'{text!r}: must be above 0 and at most 1000')
    return value


DESCRIPTION = """\
Run the segmentation + depth network on images, image folders or videos.

Per frame (--frames; default for images and folders, not for videos):
  NAME_segmentation.png  palette colours (legend.png names the colour of every class id)
  NAME_labels.png        class ids
  NAME_depth.png         depth colours: turbo on a logarithmic scale from 1 m to the model's
                         far limit, near = red, far = blue (depth_scale.png: the key in metres)
  NAME_depth16.png       metric depth, 16-bit: metres x 256, 0 = no depth (KITTI's convention)
  NAME_normals.png       models with a normals head: (n + 1) / 2 as RGB
  NAME_mosaic.png        input | segmentation | depth [| normals]
With --ply, per frame: NAME.ply (points with colour and class label) and NAME_cloud.png (the
cloud seen from behind and above the camera).
Per video or folder (NAME = its name; loose image files together are one sequence):
  NAME.mp4  (--video; default for videos) and NAME.gif (--gif, small: at most 480 px wide and
  10 frames/s): image, segmentation and depth stacked top to bottom with the class legend and
  the depth colour bar, at the input's frame rate divided by --every.
Video frames are named NAME_<index in the video>, images by their file names."""


def build_parser() -> argparse.ArgumentParser:
    """Command-line interface of ``mtl_infer``."""
    parser = argparse.ArgumentParser(prog='mtl_infer', description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('inputs', nargs='+', type=Path, metavar='INPUT',
                        help='image files, folders of images, or video files')
    source = parser.add_mutually_exclusive_group()
    source.add_argument('--model', type=Path,
                        help='checkpoint (.pt) or exported graph (.onnx) to run (default: '
                             'the shipped default '
                             f'weights, models/{DEFAULT_MODEL_FILE})')
    source.add_argument('--random-init', action='store_true',
                        help='use an UNTRAINED, randomly initialised network (synthetic '
                             'classes); its outputs are meaningless - for smoke tests only')
    parser.add_argument('--output', type=Path, default=Path('infer_output'),
                        help='folder for the results (created; default: %(default)s)')
    parser.add_argument('--device', default='auto',
                        help='auto, cpu, cuda or cuda:N (default: %(default)s)')
    parser.add_argument('--backend', choices=backend_choices(), default='auto',
                        help=backend_help() + '; --random-init always runs torch')
    parser.add_argument('--half', action=argparse.BooleanOptionalAction, default=None,
                        help='float16 inference (default: on CUDA only)')
    parser.add_argument('--precision', choices=PRECISIONS, default='auto',
                        help='auto (as --half says), fp32, fp16, or int8 (OpenVINO on the CPU; '
                             'a .xml from mtl_export_onnx --precision int8, or a .pt trained on '
                             'rendered streets, quantised on first use; default: %(default)s)')
    parser.add_argument('--input-size', type=image_size(example='192x640'), metavar='HxW',
                        help='resize every frame to HxW for the network (default: as the '
                             "model says: its trained size, or each frame's own size for "
                             'imported models)')
    outputs = parser.add_argument_group('what is written')
    outputs.add_argument('--frames', action=argparse.BooleanOptionalAction, default=None,
                         help='per-frame PNGs (default: for images and folders, not videos)')
    outputs.add_argument('--video', action=argparse.BooleanOptionalAction, default=None,
                         help='one stacked NAME.mp4 per video or folder (default: for videos)')
    outputs.add_argument('--gif', action='store_true',
                         help='one small stacked NAME.gif per video or folder')
    outputs.add_argument('--codec', default='auto',
                         help='FOURCC of the MP4s: avc1 (H.264, where this OpenCV build has '
                              'an encoder), mp4v, or auto = the first of those that works '
                              '(default: %(default)s)')
    outputs.add_argument('--fps', type=_frame_rate, default=DEFAULT_FPS,
                         help='frame rate of folders and image files, and of videos that do '
                              'not state theirs (default: %(default)s, as KITTI)')
    outputs.add_argument('--ply', action='store_true',
                         help='also write a semantic point cloud and its picture per frame')
    outputs.add_argument('--intrinsics', type=float, nargs=4,
                         metavar=('FX', 'FY', 'CX', 'CY'),
                         help='pinhole intrinsics of the input images, in pixels, for --ply')
    outputs.add_argument('--hfov', type=_field_of_view, default=80.0,
                         help='horizontal field of view in degrees, used for --ply when '
                              '--intrinsics is not given (default: %(default)s)')
    frames = parser.add_argument_group('which frames (counted within each video or folder)')
    frames.add_argument('--start', type=_count(0), default=0, metavar='N',
                        help='skip the first N frames (default: %(default)s)')
    frames.add_argument('--every', type=_count(1), default=1, metavar='N',
                        help='take every N-th frame from there (default: %(default)s)')
    frames.add_argument('--max-frames', type=_count(1), default=None, metavar='N',
                        help='take at most N frames (default: all)')
    return parser


def _check_output_folder(output: Path) -> None:
    """Refuse an output folder that cannot be created or written, before any work.

    Raises:
        ValueError: If ``output`` or the nearest existing folder above it is not a writable
            folder.
    """
    if output.exists() and not output.is_dir():
        raise ValueError(f'--output {str(output)!r} is a file; name a folder')
    existing = output
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f'--output {str(output)!r} cannot be created: {str(existing)!r} is '
                         'a file')
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f'--output {str(output)!r}: {str(existing)!r} is not writable')


def _prepare(args: argparse.Namespace) -> tuple[list[Sequence], Engine, str | None]:
    """Check everything the command line names and load the model; nothing is written yet."""
    _check_output_folder(args.output)
    if args.intrinsics is not None:
        Intrinsics(*args.intrinsics, width=1, height=1)  # refuse before any output
    if args.ply and importlib.util.find_spec('open3d') is None:
        raise ValueError('--ply writes through Open3D, which is not installed: '
                         'pip install open3d')
    sequences = collect_sequences(args.inputs)
    if not sequences:
        raise ValueError(f'no image or video found in {", ".join(map(str, args.inputs))}')
    wants_video = args.video or (args.video is None and any(s.is_video for s in sequences))
    codec = choose_codec(args.codec) if wants_video else None
    predictor = (untrained_predictor(args.device, args.input_size) if args.random_init else
                 load_engine(args.model or default_model_path(), backend=args.backend,
                             device=args.device, half=args.half, input_size=args.input_size,
                             precision=args.precision))
    return sequences, predictor, codec


def main(argv: list[str] | None = None) -> int:
    """Run ``mtl_infer``; exit code 0 ok, 1 failed input/output/cache, 2 bad usage/input.

    130 when interrupted (nothing half-written is left).
    """
    logging.basicConfig(level=logging.INFO, format='%(name)s: %(levelname)s: %(message)s')
    args = build_parser().parse_args(argv)
    try:
        sequences, predictor, codec = _prepare(args)
        args.output.mkdir(parents=True, exist_ok=True)
    except (ExportCacheError, VideoOutputError) as error:  # the machine's, not the user's
        log.error('%s', error)
        return 1
    except (OSError, ValueError, MtlPerceptionError) as error:
        log.error('%s', error)
        return 2
    if args.random_init:
        log.warning('the network is UNTRAINED (random weights): outputs show the pipeline '
                    'working, not a meaningful segmentation or depth')
    try:
        return _run(args, sequences, predictor, codec)
    except KeyboardInterrupt:
        log.error('interrupted; the files written so far are complete, no video was written '
                  'for the unfinished input')
        return INTERRUPTED_EXIT
    except OSError as error:
        log.error('cannot write the results: %s', error)
        return 1


def _run(args: argparse.Namespace, sequences: list[Sequence], predictor: Engine,
         codec: str | None) -> int:
    selection = FrameSelection(args.start, args.every, args.max_frames)
    depth_range = predictor.metadata.depth_range
    stacked = StackedFrames(predictor.class_names, predictor.palette, depth_range)
    failures = written = 0

    def fail(error: MtlPerceptionError) -> None:
        nonlocal failures
        log.error('%s', error)
        failures += 1

    total = sum(selection.count(s.frame_count()) for s in sequences)
    with tqdm(total=total, unit='frame', disable=None) as progress:
        for sequence in sequences:
            failures_before = failures
            taken, delivered = _run_sequence(args, sequence, predictor, codec, selection,
                                             stacked, fail, progress)
            if delivered and not written:  # the keys to the pictures, once there is one
                write_png(args.output / 'legend.png',
                          legend(predictor.class_names, predictor.palette))
                write_png(args.output / 'depth_scale.png', depth_colour_bar(depth_range))
            written += delivered
            if not taken and failures == failures_before:
                log.warning('%s: no frame selected: --start %d is at or past its end',
                            sequence.name, args.start)
    log.info('wrote %d frame(s) to %s', written, args.output)
    return 1 if failures else 0


def _run_sequence(args: argparse.Namespace, sequence: Sequence, predictor: Engine,
                  codec: str | None, selection: FrameSelection, stacked: StackedFrames,
                  fail: Callable[[MtlPerceptionError], None], progress: tqdm) -> tuple[int, int]:
    """Run one sequence into its files and videos; return frames taken and delivered.

    Delivered frames reached a file: their own pictures, or a video that was completed.
    """
    depth_range = predictor.metadata.depth_range
    wants_frames = args.frames if args.frames is not None else not sequence.is_video
    sinks = _sinks(args, sequence, codec)
    taken = finished = 0
    try:
        for name, bgr in sequence.frames(selection, skip=fail):
            prediction = predictor.predict(bgr, bgr=True)
            pictures = FramePictures.of(bgr, prediction, depth_range)
            if wants_frames:
                write_frame_files(name, pictures, prediction, args.output)
            if args.ply:
                height, width = prediction.depth.shape
                write_frame_cloud(name, prediction, pictures, intrinsics_for(
                    width, height, args.intrinsics, args.hfov), args.output)
            frame = stacked(pictures) if sinks else None
            for sink in sinks:
                sink.add(frame)
            taken += 1
            progress.update()
            hold_if_asked(f'frame {taken}')  # tests signal it here, with a video half-written
        for sink in sinks:
            sink.close()
            finished += 1
    except (UnreadableInputError, VideoOutputError) as error:
        fail(error)
    finally:
        with signals_deferred():  # a signal now must not leave a hidden partial video
            for sink in sinks:
                sink.abort()  # a no-op for a closed sink
    return taken, taken if wants_frames or args.ply or (sinks and finished == len(sinks)) else 0


def _sinks(args: argparse.Namespace, sequence: Sequence,
           codec: str | None) -> list[Mp4Sink | GifSink]:
    rate = sequence.frame_rate(args.fps) / args.every
    sinks: list[Mp4Sink | GifSink] = []
    if codec is not None and (args.video or (args.video is None and sequence.is_video)):
        sinks.append(Mp4Sink(args.output / f'{sequence.name}.mp4', codec, rate))
    if args.gif:
        sinks.append(GifSink(args.output / f'{sequence.name}.gif', rate))
    return sinks
