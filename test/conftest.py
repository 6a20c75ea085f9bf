# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Shared fixtures: tiny real checkpoints and images made on the fly."""

from __future__ import annotations

import os
from pathlib import Path

from mtl_perception.checkpoint import ModelMetadata, save_checkpoint
from mtl_perception.labels import get_class_set
from mtl_perception.model import build_model
import numpy as np
import pytest
import torch

ARCH = 'mbv2_lwrefinenet'


def make_metadata(num_classes: int = 8, **overrides: object) -> ModelMetadata:
    """Metadata of a small synthetic-class model; fields can be overridden."""
    classes = get_class_set('synthetic')
    names = classes.names if num_classes == classes.num_classes else tuple(
        f'class_{i}' for i in range(num_classes))
    colours = classes.colours if num_classes == classes.num_classes else tuple(
        (i, 2 * i % 256, 3 * i % 256) for i in range(num_classes))
    fields = {
        'arch': ARCH, 'num_classes': num_classes, 'class_names': names, 'palette': colours,
        'input_size': (64, 96), 'depth_range': (0.1, 80.0), 'dataset': 'test',
    }
    fields.update(overrides)
    return ModelMetadata(**fields)


@pytest.fixture(scope='session', autouse=True)
def export_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keep ONNX graphs exported on first use (and by node processes) out of ~/.cache."""
    path = tmp_path_factory.mktemp('export_cache')
    os.environ['MTL_PERCEPTION_CACHE'] = str(path)
    return path


@pytest.fixture(scope='session')
def int8_model(export_cache: Path) -> Path:
    """Quantise the default weights to INT8 through the export cache (about a minute, once).

    Calibrated on rendered frames of their training seeds, at their trained 640x192, for
    frames of any size; the ``.xml`` of the cache entry (its ``.bin`` beside it).
    """
    from mtl_perception.default_model import default_model_path
    from mtl_perception.engines.loading import load_engine

    return load_engine(default_model_path(), precision='int8').path


@pytest.fixture(scope='session')
def small_model() -> torch.nn.Module:
    """Build an 8-class network with fixed random weights."""
    torch.manual_seed(0)
    return build_model(ARCH, num_classes=8).eval()


@pytest.fixture(scope='session')
def checkpoint_path(tmp_path_factory: pytest.TempPathFactory,
                    small_model: torch.nn.Module) -> Path:
    """Save ``small_model`` as a valid checkpoint on disk."""
    path = tmp_path_factory.mktemp('checkpoint') / 'model.pt'
    return save_checkpoint(path, small_model, make_metadata())


@pytest.fixture
def street_image() -> np.ndarray:
    """Make a 50x70 RGB image with structure (sky, facade, road) and noise."""
    rng = np.random.default_rng(0)
    image = np.zeros((50, 70, 3), dtype=np.uint8)
    image[:15] = (110, 160, 220)
    image[15:32] = (120, 100, 90)
    image[32:] = (70, 70, 75)
    noise = rng.integers(0, 30, size=image.shape, dtype=np.uint8)
    return image + noise


@pytest.fixture(scope='session')
def normals_checkpoint_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Save an 8-class network with a surface-normals head (a three-task model)."""
    torch.manual_seed(1)
    model = build_model(ARCH, num_classes=8, normals=True).eval()
    path = tmp_path_factory.mktemp('normals') / 'three_task.pt'
    return save_checkpoint(path, model, make_metadata(arch_kwargs={'normals': True}))
