# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The default weights are found with and without a ROS workspace, and load."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

from mtl_perception.checkpoint import load_checkpoint
from mtl_perception.default_model import DEFAULT_MODEL_FILE, default_model_path
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_without_a_ros_workspace_the_checkout_models_folder_is_used(monkeypatch):
    monkeypatch.delenv('AMENT_PREFIX_PATH', raising=False)
    assert default_model_path() == ROOT / 'models' / DEFAULT_MODEL_FILE


def test_the_default_weights_ship_and_load_with_their_synthetic_classes():
    checkpoint = load_checkpoint(default_model_path())
    assert checkpoint.metadata.class_names[0] == 'road'
    assert checkpoint.metadata.dataset == 'synthetic'
    assert default_model_path().stat().st_size < 20 * 2**20


def test_mtl_eval_on_the_held_out_seeds_reproduces_the_model_card_metrics():
    metadata = load_checkpoint(default_model_path()).metadata
    card = metadata.metrics['held_out']
    seeds = card['data'].split('seeds ')[1].split(' ')[0]
    first, last = (int(v) for v in seeds.split('..'))
    result = subprocess.run(
        [sys.executable, '-m', 'mtl_perception', 'mtl_eval', '--checkpoint',
         str(default_model_path()), '--dataset', 'synthetic', '--seed', str(first), '--frames',
         str(last - first + 1), '--device', 'cpu', '--json'],
        capture_output=True, text=True, timeout=1200, check=True)
    measured = json.loads(result.stdout)
    for key in ('miou', 'pixel_acc', 'rmse', 'abs_rel', 'delta1'):
        assert measured[key] == pytest.approx(card[key], abs=2e-3), key
