# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``mtl_infer``: offline inference on images, folders of images and videos.

For every frame it writes the colour segmentation, the class-id image, a depth colour map, a
side-by-side mosaic and, with ``--ply``, a semantic point cloud.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
import importlib.util
import logging
import math
from pathlib import Path
import sys

import cv2
from mtl_perception.checkpoint import ModelMetadata
from mtl_perception.default_model import DEFAULT_MODEL_FILE, default_model_path
from mtl_perception.engines import backend_choices, backend_help
from mtl_perception.engines.contract import Prediction
from mtl_perception.engines.loading import load_engine
from mtl_perception.engines.torch_engine import Predictor
from mtl_perception.errors import ExportCacheError, MtlPerceptionError
from mtl_perception.geometry import backproject, Intrinsics
from mtl_perception.labels import get_class_set
from mtl_perception.model import build_model
from mtl_perception.tools.errors import UnreadableInputError
from mtl_perception.visualize import (colourise_depth, colourise_labels,
                                      colourise_normals, depth_colour_bar, legend, mosaic)
import numpy as np
import torch
from tqdm import tqdm

IMAGE_SUFFIXES = frozenset({'.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.ppm', '.pgm'})
VIDEO_SUFFIXES = frozenset({'.mp4', '.avi', '.mkv', '.mov', '.webm', '.mpg', '.mpeg'})
UNTRAINED_INPUT_SIZE = (192, 640)
UNTRAINED_DEPTH_RANGE = (0.5, 80.0)

log = logging.getLogger('mtl_infer')


def untrained_predictor(device: str) -> Predictor:
    """Build a randomly initialised network (seed 0, synthetic classes) for smoke runs."""
    classes = get_class_set('synthetic')
    torch.manual_seed(0)
    model = build_model('mbv2_lwrefinenet', num_classes=classes.num_classes)
    metadata = ModelMetadata(
        arch='mbv2_lwrefinenet', num_classes=classes.num_classes, class_names=classes.names,
        palette=classes.colours, input_size=UNTRAINED_INPUT_SIZE,
        depth_range=UNTRAINED_DEPTH_RANGE, dataset='none (random initialisation)')
    return Predictor(model, metadata, device=device)


def collect_inputs(paths: list[Path]) -> list[Path]:
    """Expand folders to their images (sorted) and check that every input exists.

    Raises:
        FileNotFoundError: If an input does not exist.
        ValueError: If a file's type is not a known image or video suffix.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir()
                                if p.suffix.lower() in IMAGE_SUFFIXES))
        elif not path.exists():
            raise FileNotFoundError(f'input {str(path)!r} does not exist')
        elif path.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES:
            files.append(path)
        else:
            raise ValueError(
                f'input {str(path)!r} is neither an image ({sorted(IMAGE_SUFFIXES)}) nor a '
                f'video ({sorted(VIDEO_SUFFIXES)})')
    return files


def count_frames(path: Path) -> int:
    """Frames an input will yield: 1 for an image, the container's count for a video."""
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return 1
    capture = cv2.VideoCapture(str(path))
    try:
        return max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
    finally:
        capture.release()


def output_names(files: list[Path]) -> dict[Path, str]:
    """Give every input a distinct output name: its stem, or ``folder_stem`` where stems clash.

    Two ``frame.png`` from different folders would otherwise overwrite each other's outputs.
    """
    stems: dict[str, int] = {}
    for path in files:
        stems[path.stem] = stems.get(path.stem, 0) + 1
    names: dict[Path, str] = {}
    taken: set[str] = set()
    for path in files:
        name = path.stem if stems[path.stem] == 1 else f'{path.parent.name}_{path.stem}'
        base, number = name, 1
        while name in taken:
            number += 1
            name = f'{base}_{number}'
        taken.add(name)
        names[path] = name
    return names


def read_frames(path: Path, name: str) -> Iterator[tuple[str, np.ndarray]]:
    """Yield ``(output name, BGR image)`` for an image file or for every frame of a video.

    Raises:
        UnreadableInputError: If the file cannot be decoded.
    """
    if path.suffix.lower() in IMAGE_SUFFIXES:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise UnreadableInputError(f'{path}: cannot be decoded as an image')
        yield name, image
        return
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise UnreadableInputError(f'{path}: cannot be opened as a video')
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            yield f'{name}_{index:06d}', frame
            index += 1
        if index == 0:
            raise UnreadableInputError(f'{path}: video holds no decodable frame')
    finally:
        capture.release()


def intrinsics_for(width: int, height: int, values: list[float] | None,
                   hfov_degrees: float) -> Intrinsics:
    """Intrinsics from ``--intrinsics FX FY CX CY`` or from a horizontal field of view."""
    if values is not None:
        return Intrinsics(*values, width=width, height=height)
    focal = (width / 2.0) / math.tan(math.radians(hfov_degrees) / 2.0)
    return Intrinsics(focal, focal, (width - 1) / 2.0, (height - 1) / 2.0, width, height)


def write_outputs(name: str, bgr: np.ndarray, prediction: Prediction, output: Path,
                  depth_range: tuple[float, float]) -> None:
    """Write the per-frame PNGs: colour segmentation, class ids, depth colours, mosaic.

    Three-task models add ``NAME_normals.png`` and a fourth mosaic panel.
    """
    segmentation = colourise_labels(prediction.labels, prediction.palette)
    depth = colourise_depth(prediction.depth, depth_range)
    panels = [bgr[..., ::-1], segmentation, depth]
    pictures = {'segmentation': segmentation, 'depth': depth}
    if prediction.normals is not None:
        pictures['normals'] = colourise_normals(prediction.normals)
        panels.append(pictures['normals'])
    pictures['mosaic'] = mosaic(*panels)
    for kind, picture in pictures.items():
        cv2.imwrite(str(output / f'{name}_{kind}.png'), np.ascontiguousarray(picture[..., ::-1]))
    cv2.imwrite(str(output / f'{name}_labels.png'), prediction.labels)


def _field_of_view(text: str) -> float:
    """Parse a horizontal field of view in degrees, strictly between 0 and 180."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a number of degrees') from None
    if not 0.0 < value < 180.0:
        raise argparse.ArgumentTypeError(f'{text!r}: must be between 0 and 180 degrees')
    return value


def build_parser() -> argparse.ArgumentParser:
    """Command-line interface of ``mtl_infer``."""
    parser = argparse.ArgumentParser(
        prog='mtl_infer',
        description='Run the segmentation + depth network on images, image folders or videos '
                    'and write, per frame: NAME_segmentation.png (palette colours), '
                    'NAME_labels.png (class ids), NAME_depth.png (turbo colour map on a '
                    'logarithmic scale from 1 m, near = red, far = blue), for models with a '
                    'normals head NAME_normals.png ((n + 1) / 2 as RGB), NAME_mosaic.png '
                    '(input | segmentation | depth [| normals]) and, with --ply, NAME.ply '
                    '(points with colour and class label); legend.png names the colour of '
                    'every class id, depth_scale.png gives the depth colours in metres.')
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
    parser.add_argument('--ply', action='store_true',
                        help='also write a semantic point cloud per frame')
    parser.add_argument('--intrinsics', type=float, nargs=4, metavar=('FX', 'FY', 'CX', 'CY'),
                        help='pinhole intrinsics of the input images, in pixels, for --ply')
    parser.add_argument('--hfov', type=_field_of_view, default=80.0,
                        help='horizontal field of view in degrees, used for --ply when '
                             '--intrinsics is not given (default: %(default)s)')
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; exit code 0 ok, 1 failed frames or unwritable cache, 2 bad usage/input."""
    logging.basicConfig(level=logging.INFO, format='%(name)s: %(levelname)s: %(message)s')
    args = build_parser().parse_args(argv)
    try:
        if args.output.exists() and not args.output.is_dir():
            raise ValueError(f'--output {str(args.output)!r} is a file; name a folder')
        if args.intrinsics is not None:
            Intrinsics(*args.intrinsics, width=1, height=1)  # refuse before any output
        if args.ply and importlib.util.find_spec('open3d') is None:
            raise ValueError('--ply writes through Open3D, which is not installed: '
                             'pip install open3d')
        files = collect_inputs(args.inputs)
        predictor = (untrained_predictor(args.device) if args.random_init else
                     load_engine(args.model or default_model_path(), backend=args.backend,
                                 device=args.device, half=args.half))
    except ExportCacheError as error:  # the machine's fault, not the command line's
        log.error('%s', error)
        return 1
    except (OSError, ValueError, MtlPerceptionError) as error:
        log.error('%s', error)
        return 2
    if not files:
        log.error('no image or video found in %s', ', '.join(map(str, args.inputs)))
        return 2
    if args.random_init:
        log.warning('the network is UNTRAINED (random weights): outputs show the pipeline '
                    'working, not a meaningful segmentation or depth')
    args.output.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.output / 'legend.png'),
                legend(predictor.class_names, predictor.palette)[..., ::-1])
    cv2.imwrite(str(args.output / 'depth_scale.png'),
                depth_colour_bar(predictor.metadata.depth_range)[..., ::-1])
    depth_range = predictor.metadata.depth_range
    names = output_names(files)
    failures = written = 0
    with tqdm(total=sum(count_frames(f) for f in files), unit='frame',
              disable=None) as progress:
        for path in files:
            try:
                for name, bgr in read_frames(path, names[path]):
                    prediction = predictor.predict(bgr, bgr=True)
                    write_outputs(name, bgr, prediction, args.output, depth_range)
                    if args.ply:
                        write_frame_cloud(name, prediction, args)
                    written += 1
                    progress.update()
            except UnreadableInputError as error:
                log.error('%s', error)
                failures += 1
    log.info('wrote %d frame(s) to %s', written, args.output)
    return 1 if failures else 0


def write_frame_cloud(name: str, prediction: Prediction, args: argparse.Namespace) -> None:
    """Back-project one frame's depth and write its valid points as a semantic PLY."""
    from mtl_perception.tools.ply import write_semantic_ply  # Open3D: only for --ply
    height, width = prediction.depth.shape
    intrinsics = intrinsics_for(width, height, args.intrinsics, args.hfov)
    points = backproject(torch.from_numpy(prediction.depth), intrinsics).numpy()
    valid = np.isfinite(prediction.depth)
    write_semantic_ply(args.output / f'{name}.ply', points[valid],
                       colourise_labels(prediction.labels, prediction.palette)[valid],
                       prediction.labels[valid])


if __name__ == '__main__':
    sys.exit(main())
