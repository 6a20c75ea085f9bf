"""The default weights are found with and without a ROS workspace, and load."""

from __future__ import annotations

from pathlib import Path

from mtl_perception.checkpoint import load_checkpoint
from mtl_perception.default_model import DEFAULT_MODEL_FILE, default_model_path

ROOT = Path(__file__).resolve().parents[1]


def test_without_a_ros_workspace_the_checkout_models_folder_is_used(monkeypatch):
    monkeypatch.delenv('AMENT_PREFIX_PATH', raising=False)
    assert default_model_path() == ROOT / 'models' / DEFAULT_MODEL_FILE


def test_the_default_weights_ship_and_load_with_their_synthetic_classes():
    checkpoint = load_checkpoint(default_model_path())
    assert checkpoint.metadata.class_names[0] == 'road'
    assert checkpoint.metadata.dataset == 'synthetic'
    assert default_model_path().stat().st_size < 20 * 2**20
