# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Real training: a step lowers the loss, a short run overfits, resume is exact, CLIs work."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
import subprocess
import sys

import cv2
from mtl_perception.checkpoint import load_checkpoint
from mtl_perception.safe_output import json_safe
from mtl_perception.training.config import load_config
from mtl_perception.training.errors import TrainingConfigError
from mtl_perception.training.export import main as export_main
from mtl_perception.training.train import main, Trainer
import numpy as np
import pytest
import torch

TINY = [
    'data.train=[{type: synthetic, seeds: [0, 4], size: [32, 96]}]',
    'data.val=[{type: synthetic, seeds: [1000000, 1000002], size: [32, 96]}]',
    'data.input_size=[32, 96]', 'data.base_size=[32, 96]', 'data.scale=[1.0, 1.0]',
    'data.colour_jitter=false', 'train.batch_size=2', 'train.warmup_steps=1',
    'train.amp=false', 'train.device=cpu', 'train.decoder_lr=0.0005',
    'train.encoder_lr_ratio=1.0', 'train.log_depth=true',
]


def _trainer(tmp_path: Path, *extra: str) -> Trainer:
    config = load_config(None, TINY + list(extra))
    return Trainer(config, tmp_path, command='test', progress=False)


def test_one_training_step_lowers_the_loss_on_its_batch(tmp_path):
    torch.manual_seed(0)
    trainer = _trainer(tmp_path)
    batch = next(iter(trainer._loader(0)))
    trainer.network.eval()  # fixed batch-norm statistics so the two losses are comparable
    with torch.no_grad():
        before = trainer.loss(trainer.network(trainer._normalise(batch)), batch)['total']
    trainer.network.train()
    trainer._step(batch)
    trainer.network.eval()
    with torch.no_grad():
        after = trainer.loss(trainer.network(trainer._normalise(batch)), batch)['total']
    assert float(after) < float(before)


@pytest.mark.parametrize('channels_last', [True, False])
def test_the_memory_layout_setting_reaches_weights_batches_and_validation(tmp_path,
                                                                          channels_last):
    trainer = _trainer(tmp_path, f'train.channels_last={str(channels_last).lower()}')
    batch = next(iter(trainer._loader(0)))
    conv_weight = next(p for p in trainer.model.parameters() if p.ndim == 4)
    inputs = trainer._normalise(batch)
    for tensor in (conv_weight, inputs):
        assert tensor.is_contiguous(memory_format=torch.channels_last) == channels_last
    trainer._step(batch)
    assert 0.0 <= trainer.validate()['miou'] <= 1.0
    assert conv_weight.is_contiguous(memory_format=torch.channels_last) == channels_last


def test_a_short_run_overfits_four_frames(tmp_path):
    trainer = _trainer(tmp_path, 'train.epochs=15', 'train.val_every=100')
    first = trainer._train_epoch(0)['train_total']
    for epoch in range(1, 15):
        last = trainer._train_epoch(epoch)['train_total']
    assert last < 0.5 * first


def test_resuming_continues_exactly_as_an_uninterrupted_run(tmp_path):
    straight = _trainer(tmp_path / 'straight', 'train.epochs=2')
    straight.fit()
    interrupted = _trainer(tmp_path / 'resumed', 'train.epochs=2')
    interrupted.fit(stop_after=1)
    resumed_config = load_config(tmp_path / 'resumed' / 'config.yaml')
    resumed = Trainer(resumed_config, tmp_path / 'resumed', command='test', progress=False)
    resumed.resume()
    assert resumed.epoch == 1
    resumed.fit()
    expected = load_checkpoint(tmp_path / 'straight' / 'last.pt').model.state_dict()
    actual = load_checkpoint(tmp_path / 'resumed' / 'last.pt').model.state_dict()
    for key, value in expected.items():
        assert torch.equal(value, actual[key]), key
    rows = (tmp_path / 'resumed' / 'metrics.csv').read_text().splitlines()
    assert len(rows) == 3


def test_a_run_folder_holds_config_checkpoints_metrics_curves_and_tensorboard(tmp_path):
    assert main(['--output', str(tmp_path), '--no-progress', *[
        item for override in TINY + ['train.epochs=1'] for item in ('--set', override)]]) == 0
    for name in ('config.yaml', 'last.pt', 'best.pt', 'metrics.csv', 'curves.png'):
        assert (tmp_path / name).is_file(), name
    assert list((tmp_path / 'tensorboard').glob('events.out.tfevents.*'))
    best = load_checkpoint(tmp_path / 'best.pt')
    assert best.metadata.input_size == (32, 96)
    assert best.metadata.class_names[0] == 'road'
    assert 'miou' in best.metadata.metrics['validation']
    assert best.metadata.created_by['command'].startswith('mtl_train --output')
    assert best.training_state is None
    assert load_checkpoint(tmp_path / 'last.pt').training_state['epoch'] == 0


def test_a_three_task_run_from_the_release_imagenet_file_records_its_architecture(tmp_path):
    from foreign_layouts import release_state_dict
    encoder = {k: v for k, v in release_state_dict(8).items() if k.startswith('layer')}
    torch.save(encoder, tmp_path / 'mobilenetv2-e6e8dd43.pth')
    overrides = TINY + ['train.epochs=1', 'train.max_steps_per_epoch=1',
                        f'model.backbone_weights={tmp_path / "mobilenetv2-e6e8dd43.pth"}',
                        'model.arch_kwargs={first_block_expansion: true, normals: true}']
    run = tmp_path / 'run'
    assert main(['--output', str(run), '--no-progress',
                 *[item for override in overrides for item in ('--set', override)]]) == 0
    best = load_checkpoint(run / 'best.pt')
    assert best.metadata.arch_kwargs == {'first_block_expansion': True, 'normals': True}
    assert best.model.tasks == ('segmentation', 'depth', 'normals')
    assert 'train_normals' in (run / 'metrics.csv').read_text().splitlines()[0]


def test_an_unknown_architecture_option_stops_training_with_one_line(tmp_path, capsys):
    assert main(['--output', str(tmp_path), '--no-progress', '--set',
                 'model.arch_kwargs={wings: 2}', *[item for override in TINY
                                                   for item in ('--set', override)]]) == 2
    assert "no option(s) ['wings']" in capsys.readouterr().err


def test_mtl_eval_prints_one_json_object_with_the_metrics(tmp_path):
    assert main(['--output', str(tmp_path), '--no-progress', *[
        item for override in TINY + ['train.epochs=1'] for item in ('--set', override)]]) == 0
    result = subprocess.run(
        [sys.executable, '-m', 'mtl_perception', 'mtl_eval', '--checkpoint',
         str(tmp_path / 'best.pt'), '--dataset', 'synthetic', '--seed', '5', '--frames', '2',
         '--size', '96x32', '--device', 'cpu', '--json'],
        capture_output=True, text=True, timeout=300, check=True)
    metrics = json.loads(result.stdout)
    for key in ('miou', 'pixel_acc', 'rmse', 'abs_rel', 'delta1'):
        assert isinstance(metrics[key], float)
    assert metrics['frames'] == 2 and metrics['dataset'].startswith('synthetic seeds 5..6')


def test_mtl_eval_names_a_missing_checkpoint(tmp_path):
    result = subprocess.run(
        [sys.executable, '-m', 'mtl_perception', 'mtl_eval', '--checkpoint',
         str(tmp_path / 'nope.pt'), '--json'], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert 'nope.pt: checkpoint file not found' in result.stderr


def test_two_process_distributed_training_writes_one_run_from_rank_zero(tmp_path):
    overrides = [item for override in TINY + ['train.epochs=1', 'data.train=[{type: synthetic, '
                                              'seeds: [0, 8], size: [32, 96]}]']
                 for item in ('--set', override)]
    result = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
         '--master_port', str(29400 + os.getpid() % 500), '-m', 'mtl_perception', 'mtl_train',
         '--output', str(tmp_path), '--no-progress', *overrides],
        capture_output=True, text=True, timeout=600, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.count('run folder:') == 1
    rows = (tmp_path / 'metrics.csv').read_text().splitlines()
    assert len(rows) == 2
    assert load_checkpoint(tmp_path / 'last.pt').training_state['step'] == 2


def test_unknown_configuration_keys_are_rejected_with_the_known_ones():
    with pytest.raises(TrainingConfigError, match=r"unknown configuration key train.'epoch'"):
        load_config(None, ['train.epoch=3'])


def test_mtl_eval_reads_a_nyud_root_with_its_validation_list(tmp_path, checkpoint_path):
    rng = np.random.default_rng(0)
    cv2.imwrite(str(tmp_path / 'rgb.png'), rng.integers(0, 255, (48, 64, 3), np.uint8))
    cv2.imwrite(str(tmp_path / 'mask.png'), np.full((48, 64), 2, np.uint8))
    cv2.imwrite(str(tmp_path / 'depth.png'), np.full((48, 64), 3 * 5000, np.uint16))
    (tmp_path / 'val_list_depth.txt').write_text('rgb.png\tmask.png\tdepth.png\n')
    result = subprocess.run(
        [sys.executable, '-m', 'mtl_perception', 'mtl_eval', '--checkpoint',
         str(checkpoint_path), '--dataset', 'nyud', '--root', str(tmp_path), '--device', 'cpu',
         '--json'], capture_output=True, text=True, timeout=300, check=True)
    metrics = json.loads(result.stdout)
    assert metrics['frames'] == 1 and metrics['dataset'] == f'NYUDv2 {tmp_path}'
    assert 0.0 <= metrics['pixel_acc'] <= 1.0 and metrics['rmse'] >= 0.0


def test_exporting_a_run_gives_half_size_weights_with_held_out_metrics(tmp_path):
    run = tmp_path / 'run'
    assert main(['--output', str(run), '--no-progress', *[
        item for override in TINY + ['train.epochs=1'] for item in ('--set', override)]]) == 0
    shipped = tmp_path / 'model.pt'
    assert export_main([str(run), str(shipped), '--seed', '5', '--frames', '2',
                        '--curves', str(tmp_path / 'curves.png')]) == 0
    metadata = load_checkpoint(shipped).metadata
    assert metadata.metrics['held_out']['frames'] == 2
    assert 'synthetic seeds 5..6' in metadata.metrics['held_out']['data']
    assert metadata.metrics['training']['epochs'] == 1
    assert shipped.stat().st_size < 0.6 * (run / 'best.pt').stat().st_size
    assert (tmp_path / 'curves.png').stat().st_size > 0


def test_mtl_eval_refuses_zero_frames_and_writes_strict_json(tmp_path, checkpoint_path):
    refused = subprocess.run(
        [sys.executable, '-m', 'mtl_perception', 'mtl_eval', '--checkpoint',
         str(checkpoint_path), '--frames', '0'], capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2
    assert "'0': evaluate at least 1 frame" in refused.stderr
    result = subprocess.run(
        [sys.executable, '-m', 'mtl_perception', 'mtl_eval', '--checkpoint',
         str(checkpoint_path), '--frames', '1', '--size', '96x32', '--device', 'cpu', '--json',
         '--output', str(tmp_path / 'metrics.json')],
        capture_output=True, text=True, timeout=300, check=True)

    def refuse(constant: str) -> None:
        raise ValueError(f'{constant} is not JSON')
    for text in (result.stdout, (tmp_path / 'metrics.json').read_text()):
        assert json.loads(text, parse_constant=refuse)['frames'] == 1
    assert json_safe({'miou': math.nan, 'iou': [math.inf, 0.5], 'n': 3}) == {
        'miou': None, 'iou': [None, 0.5], 'n': 3}


def test_crops_train_at_the_crop_size_and_the_checkpoint_keeps_the_whole_input_size(tmp_path):
    trainer = _trainer(tmp_path, 'data.crop_size=[32, 48]', 'train.segmentation_loss=ohem')
    assert tuple(trainer.train_set[0]['image'].shape[-2:]) == (32, 48)
    assert trainer.metadata().input_size == (32, 96)
    assert trainer._step(next(iter(trainer._loader(0))))['total'] > 0
