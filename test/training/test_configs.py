# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Every shipped training configuration resolves against the defaults and names real datasets."""

from __future__ import annotations

from pathlib import Path

from mtl_perception.labels import get_class_set
from mtl_perception.model import available_models
from mtl_perception.training.config import load_config
from mtl_perception.training.errors import TrainingConfigError
import pytest

CONFIGS = sorted((Path(__file__).resolve().parents[2] / 'config').glob('train_*.yaml'))


def test_there_are_configs_for_synthetic_nyud_kitti_and_both():
    expected = {'train_synthetic', 'train_nyud', 'train_kitti', 'train_nyud_kitti'}
    assert {p.stem for p in CONFIGS} >= expected


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_a_shipped_config_resolves_with_known_keys_and_values(path):
    config = load_config(path)
    assert config['model']['arch'] in available_models()
    get_class_set(config['model']['class_set'])
    kinds = {spec['type'] for spec in config['data']['train'] + config['data']['val']}
    assert kinds <= {'synthetic', 'nyud', 'kitti_depth', 'kitti_semantics', 'distilled'}


@pytest.mark.parametrize('override', ['data.crop_size=abc', 'data.crop_size=[0, 64]',
                                      'data.input_size=[64]', 'data.base_size=[64.5, 96]'])
def test_image_sizes_that_are_not_two_whole_sides_of_32_or_more_are_refused(override):
    key = override.split('=')[0]
    with pytest.raises(TrainingConfigError, match=rf'{key} must be \[height, width\]'):
        load_config(None, [override])
