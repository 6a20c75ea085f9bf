# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``mtl_distill``: fill the missing modality of a dataset with a teacher's predictions.

Hard knowledge distillation (Nekrasov et al., ICRA 2019): a depth-only dataset gets the
teacher's class ids as labels, a labels-only dataset the teacher's depth. The result is a
folder in the NYUDv2 list layout that ``{type: nyud, root: OUT, list: distilled_list.txt,
depth_scale: 256}`` reads back. Images and annotations (original where present, pseudo where
missing) are written as PNGs, depth as uint16 metres x 256 so that 80 m street depths fit.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
import sys

from mtl_perception.cli import usage_error
from mtl_perception.engines.torch_engine import Predictor
from mtl_perception.errors import MtlPerceptionError
from mtl_perception.formats.images import depth_to_png, write_png
from mtl_perception.training.datasets import build_dataset
from mtl_perception.training.datasets.sample import Sample
from mtl_perception.training.errors import TrainingConfigError
from torch.utils.data import Dataset
from tqdm import tqdm
import yaml

LOGGER = logging.getLogger(__name__)
LIST_NAME = 'distilled_list.txt'
DEPTH_SCALE = 256.0


def distill(predictor: Predictor, dataset: Dataset, output: Path, *,
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
            'Hard knowledge distillation: run a teacher checkpoint over a dataset and write '
            'its predictions for the missing modality (labels or depth) as pseudo-labels, in '
            'a NYUDv2-layout folder that training reads with {type: nyud, root: OUTPUT, '
            f'list: {LIST_NAME}, depth_scale: {DEPTH_SCALE:g}}}.'))
    parser.add_argument('--teacher', required=True, type=Path, help='teacher checkpoint')
    parser.add_argument('--dataset', required=True, metavar='YAML',
                        help='dataset spec as in a training config, e.g. "{type: kitti_depth, '
                             'raw_root: RAW, depth_root: DEPTH, split: train}"')
    parser.add_argument('--output', required=True, type=Path, help='folder to write')
    parser.add_argument('--device', default='auto', help='auto, cpu, cuda or cuda:N')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``mtl_distill``; returns the exit code (0 ok, 2 bad input)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    try:
        spec = yaml.safe_load(args.dataset)
        if not isinstance(spec, dict):
            raise TrainingConfigError(f'--dataset must be a YAML mapping, got {args.dataset!r}')
        predictor = Predictor.from_checkpoint(args.teacher, device=args.device, half=False)
        class_set = predictor.metadata.class_set
        dataset = build_dataset(spec, class_set)
        counts = distill(predictor, dataset, args.output, progress=not args.no_progress)
    except (MtlPerceptionError, yaml.YAMLError) as error:
        return usage_error('mtl_distill', error)
    LOGGER.info('wrote %d samples (%d pseudo-labelled, %d with pseudo-depth) to %s',
                counts['samples'], counts['pseudo_labels'], counts['pseudo_depth'], args.output)
    return 0


if __name__ == '__main__':
    sys.exit(main())
