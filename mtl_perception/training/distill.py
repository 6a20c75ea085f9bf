# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``mtl_distill``: pseudo-labels for training, from teachers far too slow for the node.

Hard knowledge distillation (Nekrasov et al., ICRA 2019). Two forms:

- ``--source ... --teacher-segmentation ... --teacher-depth ... --classes SET --output DIR``:
  open foundation models (``transformers`` folders or hub ids) or checkpoints of this
  project label a team's own unlabeled images, videos and bags (``training/distillation``).
- ``--teacher CHECKPOINT --dataset YAML --output DIR``: fill the missing modality of a
  dataset that has one (a depth-only dataset gets labels, a labels-only one depth).

Both write the NYUDv2 list layout (``rgb/``, ``masks/``, ``depth/`` uint16 metres x 256,
``distilled_list.txt``) that ``{type: distilled, root: DIR}`` (or ``{type: nyud, root: DIR,
list: distilled_list.txt, depth_scale: 256}``) reads back.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
import shlex
import sys

from mtl_perception.cli import usage_error
from mtl_perception.engines.torch_engine import Predictor
from mtl_perception.errors import MtlPerceptionError
from mtl_perception.formats.images import depth_to_png, write_png
from mtl_perception.formats.ros_images import MAX_FRAME_PIXELS
from mtl_perception.process_signals import INTERRUPTED_EXIT
from mtl_perception.training.datasets import build_dataset
from mtl_perception.training.datasets.sample import Sample
from mtl_perception.training.distillation.command import distill_sources
from mtl_perception.training.distillation.output import DEPTH_SCALE, LIST_NAME, RECORDS
from mtl_perception.training.errors import TrainingConfigError
from mtl_perception.training.teachers.class_maps import yaml_problem
from torch.utils.data import Dataset
from tqdm import tqdm
import yaml

LOGGER = logging.getLogger(__name__)


def distill_dataset(predictor: Predictor, dataset: Dataset, output: Path, *,
                    progress: bool = True) -> dict[str, int]:
    """Write every sample with its missing annotations predicted; return what was filled.

    Returns:
        Counts ``samples``, ``pseudo_labels`` and ``pseudo_depth``.
    """
    output.mkdir(parents=True, exist_ok=True)
    counts = {'samples': 0, 'pseudo_labels': 0, 'pseudo_depth': 0}
    lines = []
    for index in tqdm(range(len(dataset)), desc='distilling', unit='image',
                      disable=not progress):
        sample: Sample = dataset[index]
        rgb = sample['image'].permute(1, 2, 0).numpy()
        labels, depth = sample['labels'].numpy(), sample['depth'].numpy()
        if not sample['has_labels'] or not sample['has_depth']:
            prediction = predictor.predict(rgb)
            if not sample['has_labels']:
                labels = prediction.labels
                counts['pseudo_labels'] += 1
            if not sample['has_depth']:
                depth = prediction.depth
                counts['pseudo_depth'] += 1
        name = f'{index:06d}.png'
        write_png(output / 'rgb' / name, rgb)
        write_png(output / 'masks' / name, labels.astype('uint8'))
        write_png(output / 'depth' / name, depth_to_png(depth, DEPTH_SCALE))
        lines.append(f'rgb/{name}\tmasks/{name}\tdepth/{name}')
        counts['samples'] += 1
    (output / LIST_NAME).write_text('\n'.join(lines) + '\n')
    return counts


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='mtl_distill', description=(
            'Hard knowledge distillation: teachers label your own unlabeled images, videos '
            'and rosbags (or fill the missing modality of a dataset), written in the NYUDv2 '
            'list layout that training reads with {type: distilled, root: OUTPUT}. '
            'Resumable: run the same command again after an interruption. Several GPUs or '
            'machines: torchrun ... $(which mtl_distill) ...'),
        epilog="The teachers' weights and licences are yours to choose and honour; nothing is "
               'downloaded unless you name a hub id.')
    parser.add_argument('--source', nargs='+', type=Path, metavar='PATH',
                        help='image folders or images, videos, rosbag2 folders (sqlite3 or '
                             'mcap)')
    parser.add_argument('--teacher-segmentation', metavar='DIR_OR_ID',
                        help='transformers segmentation model folder or hub id (SegFormer, '
                             'Mask2Former, UperNet...), or a .pt checkpoint of this project')
    parser.add_argument('--teacher-depth', metavar='DIR_OR_ID',
                        help='transformers depth model folder or hub id (Depth Anything, DPT, '
                             'ZoeDepth...), or a .pt checkpoint of this project')
    parser.add_argument('--teacher-depth-kind', choices=('auto', 'metric', 'relative'),
                        default='auto', help='metric or relative output (auto: as the model '
                                             'configuration says; default: %(default)s)')
    parser.add_argument('--classes', metavar='CLASS_SET',
                        help='student class set: synthetic, kitti_6, cityscapes_19, nyuv2_40')
    parser.add_argument('--class-map', type=Path, metavar='YAML',
                        help='"teacher class: student class | ignore" lines over the built-in '
                             'map')
    parser.add_argument('--image-topic', action='append', default=[], metavar='TOPIC',
                        help='bag image topic (raw or compressed; repeatable; default: the '
                             "bag's only image topic)")
    parser.add_argument('--lidar-topic', metavar='TOPIC',
                        help='bag PointCloud2 topic whose returns (through /tf_static) anchor '
                             'relative depth')
    parser.add_argument('--every', default='1', metavar='N|Xs',
                        help='every N-th frame, or one frame per X seconds (default: every '
                             'frame)')
    parser.add_argument('--min-confidence', type=float, default=0.5, metavar='P',
                        help='label pixels whose teacher softmax probability is below P are '
                             'ignored (255; default: %(default)s)')
    parser.add_argument('--depth-range', type=float, nargs=2, default=(0.5, 80.0),
                        metavar=('MIN', 'MAX'), help='valid metres (default: 0.5 80)')
    parser.add_argument('--camera-height', type=float, metavar='M',
                        help='camera height above the ground: anchors relative depth on '
                             'road/sidewalk/floor pixels')
    parser.add_argument('--camera-pitch', type=float, default=0.0, metavar='DEG',
                        help='camera pitch, positive looking down (default: 0)')
    parser.add_argument('--intrinsics', metavar='FX,FY,CX,CY',
                        help='pinhole intrinsics of images and videos (bags: their CameraInfo)')
    parser.add_argument('--max-fit-residual', type=float, default=0.15, metavar='R',
                        help='skip frames whose relative-depth fit is off by more than R '
                             '(median relative error; default: %(default)s)')
    parser.add_argument('--batch-size', type=int, default=4,
                        help='frames per teacher pass (default: %(default)s)')
    parser.add_argument('--max-pixels', type=_pixels, default=MAX_FRAME_PIXELS, metavar='N',
                        help='images whose header declares more pixels are skipped without '
                             'being decoded (default: %(default)s = 4096x4096)')
    parser.add_argument('--skip-damaged', action='store_true',
                        help='accept an output that lacks frames of a damaged source (a '
                             'truncated video): exit 0 with a warning instead of 1')
    parser.add_argument('--teacher', type=Path, help='(dataset form) teacher checkpoint')
    parser.add_argument('--dataset', metavar='YAML',
                        help='(dataset form) dataset spec as in a training config, e.g. '
                             '"{type: kitti_depth, raw_root: RAW, depth_root: DEPTH, split: '
                             'train}"')
    parser.add_argument('--output', required=True, type=Path, help='folder to write')
    parser.add_argument('--device', default='auto', help='auto, cpu, cuda or cuda:N')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    return parser


def _pixels(text: str) -> int:
    """Parse ``--max-pixels``: a whole number of at least 64 x 64."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a whole number') from None
    if value < 64 * 64:
        raise argparse.ArgumentTypeError(f'{text!r}: at least {64 * 64} (64x64)')
    return value


def _dataset_form(args: argparse.Namespace) -> None:
    spec = yaml.safe_load(args.dataset)
    if not isinstance(spec, dict):
        raise TrainingConfigError(f'--dataset must be a YAML mapping, got {args.dataset!r}')
    predictor = Predictor.from_checkpoint(args.teacher, device=args.device, half=False)
    dataset = build_dataset(spec, predictor.metadata.class_set)
    counts = distill_dataset(predictor, dataset, args.output, progress=not args.no_progress)
    LOGGER.info('wrote %d samples (%d pseudo-labelled, %d with pseudo-depth) to %s',
                counts['samples'], counts['pseudo_labels'], counts['pseudo_depth'], args.output)


def _kept(output: Path) -> str:
    """Say what an interrupted or failed run leaves in ``output``, and how to go on."""
    done = len(list((output / RECORDS).glob('*.json'))) if output.is_dir() else 0
    if not done:
        return 'no frame was finished, nothing to keep'
    return (f'the {done} frame(s) done so far are kept in {output}: run the same command '
            'again to go on')


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``mtl_distill``: 0 ok, 1 nothing written, 2 bad input, 130 interrupted."""
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    main_process = os.environ.get('RANK', '0') == '0'
    logging.basicConfig(level=logging.INFO if main_process else logging.WARNING,
                        format='%(message)s')
    try:
        if args.teacher or args.dataset:
            if not (args.teacher and args.dataset) or args.source:
                raise TrainingConfigError('the dataset form takes --teacher and --dataset '
                                          '(and no --source)')
            _dataset_form(args)
            return 0
        summary = distill_sources(args, shlex.join(['mtl_distill', *argv]))
    except MtlPerceptionError as error:
        return usage_error('mtl_distill', error)
    except yaml.YAMLError as error:
        return usage_error('mtl_distill', f'--dataset is not valid YAML: {yaml_problem(error)}')
    except OSError as error:  # the machine's: a full disk, a folder that became unwritable
        sys.stderr.write(f'mtl_distill: error: cannot write {args.output}: {error}; '
                         f'{_kept(args.output)}\n')
        return 1
    except KeyboardInterrupt:
        sys.stderr.write(f'mtl_distill: interrupted; {_kept(args.output)}\n')
        return INTERRUPTED_EXIT
    if summary is None:  # another rank writes the summary
        return 0
    counts = summary['counts']
    skipped = f': {counts["skipped_by_reason"]}' if counts['skipped'] else ''
    if summary['damaged'] and not args.skip_damaged:
        sys.stderr.write(f'mtl_distill: error: output incomplete, a source is damaged: '
                         f'{"; ".join(summary["damaged"])}; {counts["written"]} frame(s) '
                         f'written to {args.output} (pass --skip-damaged to accept it)\n')
        return 1
    for problem in summary['damaged']:
        LOGGER.warning('accepted with --skip-damaged: %s', problem)
    if not counts['written']:
        sys.stderr.write(f'mtl_distill: error: no frame was written to {args.output} '
                         f'({counts["skipped"]} skipped{skipped}); see its manifest.json\n')
        return 1
    LOGGER.info('wrote %d frames to %s (%d skipped%s)', counts['written'], args.output,
                counts['skipped'], skipped)
    return 0
