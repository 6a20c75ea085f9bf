# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``mtl_eval``: segmentation and depth metrics of a checkpoint, through the Predictor.

Frames go through exactly what the node runs (resize to the trained input size, forward,
bilinear upsampling to the frame, argmax, depth-range mask), so the figures describe what a
user gets, at the frame's own resolution.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
from pathlib import Path
import sys
from typing import Any

from mtl_perception.cli import positive_metres, usage_error
from mtl_perception.depth_scoring import crop_mask, CROPS, median_scaled
from mtl_perception.engines.torch_engine import Predictor
from mtl_perception.errors import MtlPerceptionError
from mtl_perception.labels import ClassSet
from mtl_perception.metrics import ConfusionMatrix, DepthMetrics
from mtl_perception.safe_output import json_safe
from mtl_perception.synthetic import DEFAULT_SIZE
from mtl_perception.training.datasets import (
    distilled_dataset, KittiDepthDataset, KittiSemanticsDataset, NyudDataset, SyntheticDataset
)
from mtl_perception.training.datasets.kitti_lidar import KittiLidarDepthDataset
from mtl_perception.training.errors import TrainingConfigError
import torch
from torch import distributed
from torch.utils.data import ConcatDataset, Dataset
from tqdm import tqdm

LOGGER = logging.getLogger(__name__)


def evaluate(predictor: Predictor, dataset: Dataset, *, progress: bool = True,
             max_depth: float | None = None, crop: str = 'none',
             description: str = 'evaluating') -> dict[str, Any]:
    """Run ``predictor`` on every sample and return the pooled metrics.

    Under ``torch.distributed`` each process takes every ``world_size``-th sample and the
    counts are summed, so every process returns the metrics of the whole dataset. Depth is
    scored on the pixels inside ``crop`` (:data:`mtl_perception.depth_scoring.CROPS`), as
    predicted and, as a second row, median-scaled per frame.

    Returns:
        ``miou``, ``pixel_acc``, ``iou_per_class`` (by class name), ``rmse``, ``rmse_log``,
        ``abs_rel``, ``sq_rel``, ``delta1..3``, ``median_scaled`` (the same depth metrics
        after per-frame median scaling) and ``frames``.
    """
    rank, world = 0, 1
    if distributed.is_available() and distributed.is_initialized():
        rank, world = distributed.get_rank(), distributed.get_world_size()
    device = predictor.device
    confusion = ConfusionMatrix(predictor.metadata.num_classes, device)
    max_depth = max_depth or predictor.metadata.depth_range[1]
    depth_metrics = DepthMetrics(device, max_depth=max_depth)
    scaled_metrics = DepthMetrics(device, max_depth=max_depth)
    indices = range(rank, len(dataset), world)
    for index in tqdm(indices, desc=description, unit='frame', disable=not progress,
                      leave=False):
        sample = dataset[index]
        image = sample['image'].permute(1, 2, 0).numpy()
        result = predictor.infer(image)
        if sample['has_labels']:
            confusion.update(sample['labels'].to(device), result.labels)
        if sample['has_depth']:
            truth = sample['depth'].to(device)
            if crop != 'none':
                truth = truth * torch.from_numpy(crop_mask(*truth.shape, crop)).to(device)
            depth_metrics.update(truth, result.depth)
            scaled = median_scaled(truth, result.depth, depth_metrics.min_depth, max_depth)
            if scaled is not None:
                scaled_metrics.update(truth, scaled[0])
    confusion.all_reduce()
    depth_metrics.all_reduce()
    scaled_metrics.all_reduce()
    segmentation = confusion.compute()
    segmentation['iou_per_class'] = dict(zip(predictor.class_names,
                                             segmentation['iou_per_class']))
    return {**segmentation, **depth_metrics.compute(),
            'median_scaled': scaled_metrics.compute(), 'frames': len(dataset)}


def _dataset(args: argparse.Namespace, class_set: ClassSet) -> tuple[Dataset, str]:
    if args.dataset == 'synthetic':
        height, width = args.size
        seeds = range(args.seed, args.seed + args.frames)
        description = (f'synthetic seeds {seeds.start}..{seeds.stop - 1} at '
                       f'{width}x{height}')
        return SyntheticDataset(seeds, size=(height, width)), description
    if args.root is None:
        raise TrainingConfigError(f'--dataset {args.dataset} needs --root DIR')
    root = Path(args.root)
    if args.dataset == 'distilled':
        return (distilled_dataset(root, class_set, split='val'),
                f'distilled {root} (validation frames: agreement with the teachers)')
    if args.dataset == 'kitti-raw':
        return (KittiLidarDepthDataset(root, max_depth=args.max_depth or 80.0),
                f'KITTI raw drive {root} against its Velodyne')
    if args.dataset == 'nyud':
        return NyudDataset(root, args.list, num_classes=class_set.num_classes), f'NYUDv2 {root}'
    parts: list[Dataset] = [KittiDepthDataset(root / 'raw', root / 'depth', split='val')]
    if (root / 'semantics').is_dir():
        parts.append(KittiSemanticsDataset(root / 'semantics', class_set))
    return ConcatDataset(parts) if len(parts) > 1 else parts[0], f'KITTI {root}'


def _parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected WIDTHxHEIGHT, got {text!r}') from None
    return height, width


def _positive(text: str) -> int:
    """Parse a frame count of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a whole number') from None
    if value < 1:
        raise argparse.ArgumentTypeError(f'{text!r}: evaluate at least 1 frame')
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='mtl_eval', description=(
            'Evaluate a checkpoint: mIoU, pixel accuracy and depth errors (RMSE, abs rel, '
            'delta < 1.25^k) on synthetic frames or a real dataset, through the same '
            'Predictor the node runs.'))
    parser.add_argument('--checkpoint', required=True, type=Path, help='checkpoint file')
    parser.add_argument('--dataset',
                        choices=('synthetic', 'nyud', 'kitti', 'kitti-raw', 'distilled'),
                        default='synthetic', help='what to evaluate on (default: synthetic)')
    parser.add_argument('--seed', type=int, default=1_000_000,
                        help='first synthetic seed (default: 1000000, held out from training)')
    parser.add_argument('--frames', type=_positive, default=100,
                        help='number of synthetic frames (default: 100)')
    parser.add_argument('--size', type=_parse_size, default=DEFAULT_SIZE,
                        help='synthetic frame size WIDTHxHEIGHT (default: 640x192)')
    parser.add_argument('--root', '--data-root', type=Path,
                        help="dataset folder: NYUDv2 (the seeds' dataset/ holding nyud/ and "
                             'the list files, or the folder holding rgb/), a KITTI folder '
                             'holding raw/, '
                             'depth/ (depth benchmark, val split) and optionally semantics/, '
                             'a KITTI raw drive folder <date>_drive_NNNN_sync with '
                             'velodyne_points/ (kitti-raw: depth against its LiDAR), '
                             'or an mtl_distill output (its validation frames)')
    parser.add_argument('--list', default='val_list_depth.txt',
                        help='NYUDv2 list file, found beside or inside --root (default: '
                             'val_list_depth.txt)')
    parser.add_argument('--crop', choices=tuple(CROPS), default='none',
                        help='score depth inside this crop only: none, garg or eigen '
                             '(default: none)')
    parser.add_argument('--max-depth', type=positive_metres,
                        help="farthest depth scored, metres (default: the model's depth "
                             'range; 80 for kitti-raw)')
    parser.add_argument('--device', default='auto', help='auto, cpu, cuda or cuda:N')
    parser.add_argument('--json', action='store_true', help='print one JSON object')
    parser.add_argument('--output', type=Path, help='also write the JSON to this file')
    return parser


def _report(metrics: dict[str, Any]) -> str:
    lines = [f'{key:>10}: {value:.4f}' for key, value in metrics.items()
             if isinstance(value, float)]
    lines += [f'{"median-scaled " + key:>24}: {value:.4f}'
              for key, value in metrics['median_scaled'].items() if not math.isnan(value)]
    lines += [f'{"IoU " + name:>24}: {value:.4f}'
              for name, value in metrics['iou_per_class'].items() if not math.isnan(value)]
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``mtl_eval``; returns the exit code (0 ok, 2 bad input)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    try:
        predictor = Predictor.from_checkpoint(args.checkpoint, device=args.device, half=False)
        class_set = predictor.metadata.class_set
        dataset, description = _dataset(args, class_set)
        max_depth = args.max_depth or (80.0 if args.dataset == 'kitti-raw' else None)
        metrics = evaluate(predictor, dataset, progress=not args.json and sys.stderr.isatty(),
                           max_depth=max_depth, crop=args.crop)
    except MtlPerceptionError as error:
        return usage_error('mtl_eval', error)
    metrics = {**metrics, 'dataset': description, 'checkpoint': str(args.checkpoint)}
    text = json.dumps(json_safe(metrics), allow_nan=False)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        temporary = args.output.with_name(f'.{args.output.name}.tmp')
        temporary.write_text(json.dumps(json_safe(metrics), indent=2, allow_nan=False) + '\n')
        os.replace(temporary, args.output)
    print(text if args.json else f'{description}\n{_report(metrics)}')
    return 0
