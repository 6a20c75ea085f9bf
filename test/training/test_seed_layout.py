# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The seeds' NYUDv2 layout trains and evaluates as it is, with ``--data-root`` alone.

The hydranets course and the seed repositories keep ``dataset/nyud/{rgb,masks,depth}`` with
``train_list_depth.txt`` and ``val_list_depth.txt`` beside ``nyud/``, their lines relative to
``nyud/``. The shipped ``config/train_nyud.yaml`` is used unchanged but for the run's length.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
import subprocess
import sys

import cv2
from mtl_perception.errors import DatasetError
from mtl_perception.training.datasets import NyudDataset
from mtl_perception.training.epochs import available_cores, loader_workers
from mtl_perception.training.errors import TrainingConfigError
from mtl_perception.training.train import main
import numpy as np
import pytest
import torch
import yaml

CONFIG = Path(__file__).resolve().parents[2] / 'config' / 'train_nyud.yaml'
#: The run's length and the machine, nothing about the data.
SHORT = ['train.epochs=1', 'train.max_steps_per_epoch=1', 'train.batch_size=2',
         'train.device=cpu', 'data.input_size=[64, 96]', 'data.scale=[1.0, 1.0]']


@pytest.fixture
def seed_dataset(tmp_path: Path) -> Path:
    """Write the seeds' dataset/: nyud/{rgb,masks,depth} and the two lists beside nyud/."""
    rng = np.random.default_rng(0)
    dataset = tmp_path / 'dataset'
    names = [f'{index:06d}' for index in range(1, 7)]
    for name in names:
        for folder, image in (
                ('rgb', rng.integers(0, 255, (48, 64, 3), np.uint8)),
                ('masks', rng.integers(0, 40, (48, 64), np.uint8)),
                ('depth', rng.integers(2000, 40000, (48, 64)).astype(np.uint16))):
            (dataset / 'nyud' / folder).mkdir(parents=True, exist_ok=True)
            assert cv2.imwrite(str(dataset / 'nyud' / folder / f'{name}.png'), image)

    def lines(chosen):
        return ''.join(f'rgb/{n}.png\tmasks/{n}.png\tdepth/{n}.png\n' for n in chosen)
    (dataset / 'train_list_depth.txt').write_text(lines(names[:4]))
    (dataset / 'val_list_depth.txt').write_text(lines(names[4:]))
    return dataset


def _train(*args: str) -> int:
    return main(['--config', str(CONFIG), '--no-progress', *args,
                 *[item for override in SHORT for item in ('--set', override)]])


@pytest.mark.parametrize('where', ['dataset', 'dataset/nyud'])
def test_the_seed_layout_trains_and_evaluates_with_data_root_alone(
        tmp_path, seed_dataset, caplog, where):
    root = tmp_path / where
    run = tmp_path / 'run'
    with caplog.at_level(logging.INFO):
        assert _train('--data-root', str(root), '--output', str(run)) == 0
    startup = [r.getMessage() for r in caplog.records if r.getMessage().startswith('training on')]
    assert len(startup) == 1
    assert startup[0].startswith('training on cpu, AMP off (float16 needs CUDA), ')
    assert startup[0].endswith(' M parameters, 4 training / 2 validation samples, '
                               '0 data-loader workers')
    saved = yaml.safe_load((run / 'config.yaml').read_text())
    assert {spec['root'] for spec in saved['data']['train'] + saved['data']['val']} == {
        str(root)}
    assert len((run / 'metrics.csv').read_text().splitlines()) == 2  # header + one epoch
    for option in ('--root', '--data-root'):
        result = subprocess.run(
            [sys.executable, '-m', 'mtl_perception', 'mtl_eval', '--checkpoint',
             str(run / 'best.pt'), '--dataset', 'nyud', option, str(root), '--device', 'cpu',
             '--json'], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)['frames'] == 2  # the validation list, found alone


def test_resume_on_a_finished_run_says_so_and_how_to_train_further(
        tmp_path, seed_dataset, caplog):
    run = tmp_path / 'run'
    assert _train('--data-root', str(seed_dataset), '--output', str(run)) == 0
    before = (run / 'last.pt').read_bytes()
    with caplog.at_level(logging.INFO):
        assert main(['--output', str(run), '--resume', '--no-progress']) == 0
    assert f'{run} is finished: all 1 epochs are done. To train further, raise the epoch ' \
           f'count: mtl_train --output {run} --resume --set train.epochs=N (N > 1' in caplog.text
    assert (run / 'last.pt').read_bytes() == before
    assert main(['--output', str(run), '--resume', '--no-progress', '--set',
                 'train.epochs=2']) == 0
    assert len((run / 'metrics.csv').read_text().splitlines()) == 3


def test_data_root_needs_a_dataset_with_a_root(tmp_path, capsys):
    assert main(['--output', str(tmp_path / 'run'), '--data-root', str(tmp_path),
                 '--set', 'train.device=cpu']) == 2
    assert capsys.readouterr().err == (
        'mtl_train: error: --data-root: no dataset of this configuration reads from a root '
        'folder (its datasets: synthetic)\n')


def test_lists_inside_the_image_folder_are_found_too(seed_dataset):
    for name in ('train_list_depth.txt', 'val_list_depth.txt'):
        (seed_dataset / name).rename(seed_dataset / 'nyud' / name)
    for root in (seed_dataset, seed_dataset / 'nyud'):
        dataset = NyudDataset(root, 'val_list_depth.txt')
        assert len(dataset) == 2 and dataset.root == seed_dataset / 'nyud'
        assert dataset[0]['image'].shape == (3, 48, 64)


def test_a_missing_list_names_every_place_looked_at(tmp_path):
    (tmp_path / 'dataset' / 'nyud').mkdir(parents=True)
    with pytest.raises(DatasetError) as error:
        NyudDataset(tmp_path / 'dataset')
    assert str(error.value).startswith(
        f'NYUDv2 list file train_list_depth.txt not found (looked for '
        f'{tmp_path}/dataset/train_list_depth.txt, {tmp_path}/dataset/nyud/'
        f'train_list_depth.txt, {tmp_path}/train_list_depth.txt); expected a list file')


def test_a_list_whose_images_are_nowhere_says_where_it_looked(seed_dataset):
    (seed_dataset / 'nyud' / 'rgb' / '000001.png').unlink()
    with pytest.raises(DatasetError, match=r'train_list_depth.txt: its first image '
                                           r'rgb/000001.png is in none of .*/dataset/nyud, '):
        NyudDataset(seed_dataset)


def test_loader_workers_follow_the_machine():
    cpu, cuda = torch.device('cpu'), torch.device('cuda')
    assert loader_workers('auto', cpu) == 0
    assert loader_workers('auto', cuda) == min(available_cores(), 8)
    assert loader_workers(available_cores() + 3, cpu) == available_cores()
    assert loader_workers(1, cpu) == 1
    for bad in (-1, 'four', True, 1.5):
        with pytest.raises(TrainingConfigError, match='data.workers must be auto or a whole'):
            loader_workers(bad, cpu)
