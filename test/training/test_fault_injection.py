# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Training killed with SIGKILL at named points, then resumed, ends as if never interrupted.

Real processes, real signals: ``mtl_train`` runs as a subprocess, is held at a point of its
epochs and checkpoint writes (``MTL_HOLD_AT``: mid-epoch, after a metrics row, before
``last.pt``) and killed there (-9), then continued with ``--resume`` until it finishes. The
final weights, ``best.pt`` and ``metrics.csv`` must equal those of an uninterrupted run, and no
temporary file may be left behind. Where a kill lands never depends on the machine's speed.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
import subprocess
import sys

from mtl_perception.checkpoint import load_checkpoint
from mtl_perception.holds import HOLD_ENV
import pytest
from test_train import TINY
import torch

OVERRIDES = TINY + ['train.epochs=4']
TIMING_COLUMNS = ('seconds', 'images_per_second')


def _command(run: Path, resume: bool) -> list[str]:
    sets = [item for override in OVERRIDES for item in ('--set', override)]
    return [sys.executable, '-m', 'mtl_perception', 'mtl_train', '--output', str(run),
            '--no-progress', *(['--resume'] if resume else sets)]


def _train(run: Path) -> None:
    """Run (or resume, when ``last.pt`` exists) training to the end."""
    result = subprocess.run(_command(run, (run / 'last.pt').exists()), capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stderr


def _train_and_kill_at(run: Path, point: str) -> None:
    """Run (or resume) training until it holds at ``point``, then SIGKILL it there."""
    process = subprocess.Popen(_command(run, (run / 'last.pt').exists()),
                               env={**os.environ, HOLD_ENV: point}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    seen = []
    for line in process.stderr:
        seen.append(line)
        if line.strip() == f'holding at {point}':
            break
    process.kill()
    process.wait(timeout=300)
    assert seen and seen[-1].strip() == f'holding at {point}', ''.join(seen[-20:])


def _rows(run: Path) -> list[dict[str, str]]:
    with (run / 'metrics.csv').open(newline='') as stream:
        return [{k: v for k, v in row.items() if k not in TIMING_COLUMNS}
                for row in csv.DictReader(stream)]


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp('uninterrupted') / 'run'
    _train(run)
    return run


def test_kills_during_training_and_saving_change_nothing_after_resuming(tmp_path, uninterrupted):
    reference = uninterrupted
    run = tmp_path / 'run'
    # 2 steps per epoch, 4 epochs: mid-epoch 1 (nothing saved yet), after epoch 1's metrics row
    # (row without a checkpoint), before epoch 2's last.pt (epoch 1 saved), mid-epoch 4
    for point in ('step 1', 'row 1', 'last 2', 'step 7'):
        _train_and_kill_at(run, point)
    _train(run)
    expected = load_checkpoint(reference / 'last.pt')
    resumed = load_checkpoint(run / 'last.pt')
    for key, value in expected.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    best, expected_best = load_checkpoint(run / 'best.pt'), load_checkpoint(reference / 'best.pt')
    assert best.metadata.metrics['epoch'] == expected_best.metadata.metrics['epoch']
    for key, value in expected_best.model.state_dict().items():
        assert torch.equal(value, best.model.state_dict()[key]), key
    assert _rows(run) == _rows(reference)
    assert not list(run.glob('.*.tmp'))


def test_a_run_split_with_stop_after_picks_the_same_best_epoch(tmp_path, uninterrupted):
    reference = uninterrupted
    run = tmp_path / 'run'
    subprocess.run([*_command(run, resume=False), '--stop-after', '1'], check=True,
                   capture_output=True)
    for stop in ('2', '3'):
        subprocess.run([*_command(run, resume=True), '--stop-after', stop], check=True,
                       capture_output=True)
    subprocess.run(_command(run, resume=True), check=True, capture_output=True)
    best, expected = load_checkpoint(run / 'best.pt'), load_checkpoint(reference / 'best.pt')
    assert best.metadata.metrics['epoch'] == expected.metadata.metrics['epoch']
    assert _rows(run) == _rows(reference)


def _trainer(run: Path):
    from mtl_perception.training.config import load_config
    from mtl_perception.training.train import Trainer
    return Trainer(load_config(None, OVERRIDES), run, command='test', progress=False)


def test_after_resuming_a_worse_epoch_does_not_replace_the_best(tmp_path):
    run = tmp_path / 'run'
    first = _trainer(run)
    run.mkdir()
    first._save(0, {'val_score': 0.5}, {'miou': 0.5})
    second = _trainer(run)
    second.resume()
    assert second.best_score == 0.5
    second._save(1, {'val_score': 0.3}, {'miou': 0.3})
    assert load_checkpoint(run / 'best.pt').metadata.metrics['epoch'] == 1
    assert load_checkpoint(run / 'last.pt').training_state['best_score'] == 0.5


def test_a_row_written_before_a_kill_is_not_duplicated_and_debris_is_removed(
        tmp_path, uninterrupted):
    reference = uninterrupted
    run = tmp_path / 'run'
    subprocess.run([*_command(run, resume=False), '--stop-after', '1'], check=True,
                   capture_output=True)
    with (run / 'metrics.csv').open() as stream:
        lines = stream.read().splitlines()
    # as if killed after appending epoch 2's row and while writing its checkpoint
    (run / 'metrics.csv').write_text('\n'.join([*lines, lines[-1].replace('1,', '2,', 1)])
                                     + '\n')
    (run / '.last.pt.k1ll3d.tmp').write_bytes(b'half a checkpoint')
    subprocess.run([*_command(run, resume=True), '--stop-after', '2'], check=True,
                   capture_output=True)
    assert _rows(run) == _rows(reference)[:2]
    assert not list(run.glob('.*.tmp'))
