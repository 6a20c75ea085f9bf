# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``mtl_export``: turn a run's best checkpoint into shippable weights with measured metrics.

The weights are stored in float16 (half the size; loading restores float32), the metadata
gets the held-out evaluation (synthetic seeds never used in training, at the frames' own
resolution, through the Predictor) and the training time from ``metrics.csv``.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from mtl_perception.checkpoint import load_checkpoint, save_checkpoint
from mtl_perception.cli import usage_error
from mtl_perception.engines.torch_engine import Predictor
from mtl_perception.errors import MtlPerceptionError
from mtl_perception.synthetic import DEFAULT_SIZE
from mtl_perception.training.datasets import SyntheticDataset
from mtl_perception.training.evaluate import evaluate
from mtl_perception.training.plots import plot_training_curves


def _training_summary(run: Path) -> dict[str, float]:
    with (run / 'metrics.csv').open(newline='') as stream:
        rows = list(csv.DictReader(stream))
    return {'epochs': len(rows), 'steps': int(rows[-1]['step']),
            'train_seconds': round(sum(float(r['seconds']) for r in rows), 1)}


def _training_data(config: dict) -> str:
    """Name the synthetic seed ranges a run trained on, e.g. ``seeds 0..2999``."""
    ranges = [f'{spec["seeds"][0]}..{spec["seeds"][1] - 1}' for spec in config['data']['train']
              if spec.get('type') == 'synthetic' and 'seeds' in spec]
    return f'training used seeds {", ".join(ranges)}' if ranges else 'no synthetic training'


def export(run: Path, output: Path, *, seed: int, frames: int,
           curves: Path | None = None) -> dict[str, object]:
    """Write ``run/best.pt`` to ``output`` in float16 with metrics of exactly those weights.

    The held-out evaluation runs on the float16-rounded weights as shipped, so ``mtl_eval``
    on the shipped file reproduces the figures.
    """
    checkpoint = load_checkpoint(run / 'best.pt')
    save_checkpoint(output, checkpoint.model, checkpoint.metadata, half=True)
    shipped = load_checkpoint(output)
    predictor = Predictor(shipped.model, shipped.metadata, device='cpu', half=False)
    height, width = DEFAULT_SIZE
    trained_on = _training_data(checkpoint.metadata.created_by['config'])
    held_out = evaluate(predictor, SyntheticDataset(range(seed, seed + frames)),
                        description='held-out evaluation')
    metrics = {
        'held_out': {**held_out, 'data': f'synthetic seeds {seed}..{seed + frames - 1} at '
                     f'{width}x{height} ({trained_on})'},
        'validation_during_training': checkpoint.metadata.metrics,
        'training': _training_summary(run),
    }
    metadata = checkpoint.metadata.__class__(**{**checkpoint.metadata.to_dict(),
                                                'metrics': metrics})
    save_checkpoint(output, shipped.model, metadata, half=True)
    if curves is not None:
        plot_training_curves(run / 'metrics.csv', curves,
                             title='default weights: synthetic street scenes, 2-core CPU')
    return metrics


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``mtl_export``; prints the metrics as JSON."""
    parser = argparse.ArgumentParser(prog='mtl_export', description=__doc__.splitlines()[0])
    parser.add_argument('run', type=Path, help='run folder of mtl_train')
    parser.add_argument('output', type=Path, help='checkpoint file to write')
    parser.add_argument('--seed', type=int, default=1_000_000, help='first held-out seed')
    parser.add_argument('--frames', type=int, default=200, help='held-out frames')
    parser.add_argument('--curves', type=Path, help='also plot the training curves here')
    args = parser.parse_args(argv)
    try:
        metrics = export(args.run, args.output, seed=args.seed, frames=args.frames,
                         curves=args.curves)
    except (MtlPerceptionError, OSError) as error:
        return usage_error('mtl_export', error)
    print(json.dumps(metrics, indent=2))
    return 0
