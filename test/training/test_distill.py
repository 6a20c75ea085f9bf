# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Hard distillation fills the missing modality with the teacher's predictions."""

from __future__ import annotations

from pathlib import Path

import cv2
from mtl_perception.inference import Predictor
from mtl_perception.training.datasets import NyudDataset
from mtl_perception.training.distill import LIST_NAME, main
import numpy as np
import pytest


def _write(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)


@pytest.fixture
def depth_only(tmp_path: Path) -> str:
    """Write a one-frame KITTI depth dataset and return its spec."""
    drive = '2011_09_26_drive_0001_sync'
    rng = np.random.default_rng(1)
    _write(tmp_path / 'raw' / '2011_09_26' / drive / 'image_02' / 'data' / '0000000005.png',
           rng.integers(0, 255, (40, 64, 3), np.uint8))
    depth = np.zeros((40, 64), np.uint16)
    depth[10, 20] = int(12.5 * 256)
    _write(tmp_path / 'depth' / 'train' / drive / 'proj_depth' / 'groundtruth' / 'image_02'
           / '0000000005.png', depth)
    return (f'{{type: kitti_depth, raw_root: {tmp_path / "raw"}, '
            f'depth_root: {tmp_path / "depth"}}}')


def test_a_depth_only_dataset_gets_the_teachers_labels_and_keeps_its_depth(
        depth_only, tmp_path, checkpoint_path):
    output = tmp_path / 'distilled'
    assert main(['--teacher', str(checkpoint_path), '--dataset', depth_only, '--output',
                 str(output), '--device', 'cpu', '--no-progress']) == 0
    sample = NyudDataset(output, LIST_NAME, num_classes=8, depth_scale=256)[0]
    assert sample['has_labels'] and sample['has_depth']
    assert float(sample['depth'][10, 20]) == pytest.approx(12.5)
    assert int((sample['depth'] > 0).sum()) == 1
    image = sample['image'].permute(1, 2, 0).numpy()
    teacher = Predictor.from_checkpoint(checkpoint_path, device='cpu').predict(image)
    np.testing.assert_array_equal(sample['labels'].numpy(), teacher.labels)


def test_a_dataset_spec_that_is_not_a_mapping_is_rejected(tmp_path, checkpoint_path, capsys):
    assert main(['--teacher', str(checkpoint_path), '--dataset', 'kitti', '--output',
                 str(tmp_path), '--device', 'cpu']) == 2
    assert '--dataset must be a YAML mapping' in capsys.readouterr().err
