# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Choose the default weights' segmentation loss by measurement: short runs side by side.

Usage: python bench/compare_segmentation_losses.py [--steps N] [--losses ohem balanced ...]
       [--report-only]
Each loss trains the default configuration (config/train_synthetic.yaml) for the same ``N``
steps from the same seed, all runs at once with one CPU thread each, then its validation
figures (mIoU and the IoU of the thin and rare classes) are written as a table between the
``loss-comparison`` markers of docs/training.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
from pathlib import Path
import re
import subprocess
import sys

from mtl_perception.checkpoint import load_checkpoint
from mtl_perception.training.segmentation_losses import SEGMENTATION_LOSSES

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = '<!-- loss-comparison:begin -->', '<!-- loss-comparison:end -->'


def _train(loss: str, steps: int, output: Path) -> subprocess.Popen:
    overrides = [f'train.segmentation_loss={loss}', 'train.epochs=1',
                 f'train.max_steps_per_epoch={steps}', 'train.warmup_steps=50']
    command = [sys.executable, '-m', 'mtl_perception', 'mtl_train', '--config',
               str(ROOT / 'config' / 'train_synthetic.yaml'), '--output', str(output),
               '--no-progress', *[item for o in overrides for item in ('--set', o)]]
    environment = {**os.environ, 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1'}
    with output.with_suffix('.log').open('w') as log:
        return subprocess.Popen(command, cwd=ROOT, env=environment,
                                stdout=subprocess.DEVNULL, stderr=log)


def _row(loss: str, run: Path, names: list[str]) -> str:
    metadata = load_checkpoint(run / 'last.pt').metadata
    metrics = metadata.metrics['validation']
    iou = metrics['iou_per_class']
    iou = iou if isinstance(iou, dict) else dict(zip(names, iou))
    cells = [loss, f'{metrics["miou"]:.3f}', *(f'{iou[n]:.3f}' for n in names),
             f'{metrics["delta1"]:.3f}', f'{metrics["abs_rel"]:.3f}']
    return '| ' + ' | '.join(cells) + ' |'


def main() -> int:
    """Run the comparison and update docs/training.md; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=400, help='training steps per loss')
    parser.add_argument('--losses', nargs='+', default=['balanced', 'ohem'],
                        choices=SEGMENTATION_LOSSES)
    parser.add_argument('--output', type=Path, default=ROOT / 'runs' / 'loss_comparison')
    parser.add_argument('--doc', type=Path, default=ROOT / 'docs' / 'training.md')
    parser.add_argument('--report-only', action='store_true',
                        help='do not train: tabulate the runs already in --output')
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    runs = {loss: args.output / loss for loss in args.losses}
    processes = {} if args.report_only else {
        loss: _train(loss, args.steps, run) for loss, run in runs.items()}
    failed = [loss for loss, process in processes.items() if process.wait() != 0]
    if failed:
        print(f'compare_segmentation_losses: training failed for {failed}; see '
              f'{args.output}/<loss>.log', file=sys.stderr)
        return 1
    names = load_checkpoint(runs[args.losses[0]] / 'last.pt').metadata.class_names
    header = ['loss', 'mIoU', *names, 'delta1', 'abs rel']
    table = ['| ' + ' | '.join(header) + ' |', '|' + ' --- |' * len(header)]
    table += [_row(loss, run, names) for loss, run in runs.items()]
    stamp = (f'{datetime.date.today()}: {args.steps} steps of batch 8 each, the default '
             f'configuration otherwise, validation seeds of config/train_synthetic.yaml.')
    block = '\n'.join([BEGIN, stamp, '', *table, END])
    text = args.doc.read_text()
    pattern = re.compile(re.escape(BEGIN) + '.*?' + re.escape(END), re.S)
    args.doc.write_text(pattern.sub(lambda _: block, text) if pattern.search(text)
                        else f'{text.rstrip()}\n\n{block}\n')
    print(block)
    return 0


if __name__ == '__main__':
    sys.exit(main())
