# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Datasets read tiny fixtures written in each real on-disk format, and name broken files."""

from __future__ import annotations

from pathlib import Path

import cv2
from mtl_perception.errors import DatasetError
from mtl_perception.labels import get_class_set, IGNORE_ID
from mtl_perception.synthetic import RENDERER_VERSION
from mtl_perception.training.datasets import (
    build_dataset, build_datasets, KittiDepthDataset, KittiSemanticsDataset, NyudDataset,
    SyntheticDataset
)
from mtl_perception.training.errors import TrainingConfigError
import numpy as np
import pytest
import torch

SYNTHETIC = get_class_set('synthetic')


def _write(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)


@pytest.fixture
def nyud_root(tmp_path: Path) -> Path:
    """Write two NYUDv2 samples (one labels-only) in the hydranets layout."""
    rng = np.random.default_rng(0)
    for name in ('000001', '000002'):
        _write(tmp_path / 'rgb' / f'{name}.png', rng.integers(0, 255, (6, 8, 3), np.uint8))
        mask = np.full((6, 8), 3, np.uint8)
        mask[0] = 255
        _write(tmp_path / 'masks' / f'{name}.png', mask)
    depth = np.full((6, 8), 2.5 * 5000, np.uint16)
    depth[:, 0] = 0
    _write(tmp_path / 'depth' / '000001.png', depth)
    (tmp_path / 'train_list_depth.txt').write_text(
        'rgb/000001.png\tmasks/000001.png\tdepth/000001.png\n'
        'rgb/000002.png\tmasks/000002.png\t-\n')
    return tmp_path


def test_nyud_reads_metric_depth_labels_and_a_labels_only_sample(nyud_root):
    dataset = NyudDataset(nyud_root)
    assert len(dataset) == 2
    first, second = dataset[0], dataset[1]
    assert first['image'].shape == (3, 6, 8) and first['image'].dtype == torch.uint8
    assert first['has_depth'] and first['has_labels']
    assert float(first['depth'][0, 1]) == pytest.approx(2.5) and float(first['depth'][0, 0]) == 0
    assert int(first['labels'][0, 0]) == IGNORE_ID and int(first['labels'][1, 0]) == 3
    assert second['has_labels'] and not second['has_depth']
    assert float(second['depth'].abs().sum()) == 0


def test_nyud_reads_an_optional_fourth_column_of_surface_normals(nyud_root):
    colour = np.zeros((6, 8, 3), np.uint8)
    colour[1:] = (128, 128, 0)  # RGB of (0, 0, -1): a wall facing the camera
    _write(nyud_root / 'normals' / '000001.png', colour[..., ::-1])
    (nyud_root / 'train_list_depth.txt').write_text(
        'rgb/000001.png\tmasks/000001.png\tdepth/000001.png\tnormals/000001.png\n'
        'rgb/000002.png\tmasks/000002.png\t-\n')
    dataset = NyudDataset(nyud_root)
    first, second = dataset[0], dataset[1]
    assert first['has_normals'] and not second['has_normals']
    torch.testing.assert_close(first['normals'][:, 3, 3], torch.tensor([0.0, 0.0, -1.0]),
                               atol=0.01, rtol=0)
    assert float(first['normals'][:, 0].abs().sum()) == 0  # black row: invalid


def test_nyud_names_a_normals_file_of_the_wrong_size(nyud_root):
    _write(nyud_root / 'normals' / '000001.png', np.zeros((3, 3, 3), np.uint8))
    (nyud_root / 'train_list_depth.txt').write_text(
        'rgb/000001.png\tmasks/000001.png\t-\tnormals/000001.png\n')
    with pytest.raises(DatasetError, match=r'000001.png: normals is 3x3 but .* is 8x6'):
        NyudDataset(nyud_root)[0]


def test_nyud_without_its_list_file_explains_the_layout(tmp_path):
    with pytest.raises(DatasetError,
                       match=r'train_list_depth.txt not found \(looked for .*\); expected a list'):
        NyudDataset(tmp_path)


def test_nyud_names_a_missing_image(nyud_root):
    (nyud_root / 'depth' / '000001.png').unlink()
    with pytest.raises(DatasetError, match=r'missing file .*depth/000001.png'):
        NyudDataset(nyud_root)[0]


def test_nyud_names_a_corrupt_image(nyud_root):
    (nyud_root / 'rgb' / '000002.png').write_bytes(b'not a png')
    with pytest.raises(DatasetError, match=r'rgb/000002.png: not a readable image'):
        NyudDataset(nyud_root)[1]


def test_nyud_rejects_class_ids_beyond_the_class_count(nyud_root):
    with pytest.raises(DatasetError, match=r'class id 3 outside 0..2'):
        NyudDataset(nyud_root, num_classes=3)[0]


def test_nyud_rejects_a_mask_of_another_size(nyud_root):
    _write(nyud_root / 'masks' / '000001.png', np.zeros((5, 8), np.uint8))
    with pytest.raises(DatasetError, match=r'masks/000001.png: mask is 8x5 but .* is 8x6'):
        NyudDataset(nyud_root)[0]


@pytest.fixture
def kitti_roots(tmp_path: Path) -> tuple[Path, Path]:
    """Write one raw frame with sparse depth-benchmark ground truth."""
    drive = '2011_09_26_drive_0001_sync'
    raw = tmp_path / 'raw'
    _write(raw / '2011_09_26' / drive / 'image_02' / 'data' / '0000000005.png',
           np.full((4, 10, 3), 90, np.uint8))
    depth = np.zeros((4, 10), np.uint16)
    depth[2, 3] = int(12.5 * 256)
    _write(tmp_path / 'depth' / 'val' / drive / 'proj_depth' / 'groundtruth' / 'image_02'
           / '0000000005.png', depth)
    return raw, tmp_path / 'depth'


def test_kitti_depth_pairs_ground_truth_with_its_raw_image(kitti_roots):
    dataset = KittiDepthDataset(*kitti_roots, split='val')
    sample = dataset[0]
    assert len(dataset) == 1 and sample['has_depth'] and not sample['has_labels']
    assert float(sample['depth'][2, 3]) == pytest.approx(12.5)
    assert int((sample['depth'] > 0).sum()) == 1


def test_kitti_depth_names_the_missing_raw_image(kitti_roots):
    raw, depth = kitti_roots
    next(raw.rglob('0000000005.png')).unlink()
    with pytest.raises(DatasetError, match=r'raw image .*image_02/data/0000000005.png for '):
        KittiDepthDataset(raw, depth, split='val')


def test_kitti_depth_without_ground_truth_explains_the_layout(tmp_path):
    with pytest.raises(DatasetError, match=r'no KITTI depth ground truth .*proj_depth'):
        KittiDepthDataset(tmp_path, tmp_path)


def test_kitti_semantics_maps_cityscapes_ids_by_name_and_ignores_the_rest(tmp_path):
    _write(tmp_path / 'training' / 'image_2' / '000000_10.png', np.zeros((2, 3, 3), np.uint8))
    _write(tmp_path / 'training' / 'semantic' / '000000_10.png',
           np.array([[7, 8, 26], [23, 22, 0]], np.uint8))
    sample = KittiSemanticsDataset(tmp_path, SYNTHETIC)[0]
    names = SYNTHETIC.names
    assert sample['labels'].tolist() == [
        [names.index('road'), names.index('sidewalk'), names.index('car')],
        [names.index('sky'), IGNORE_ID, IGNORE_ID]]
    assert sample['has_labels'] and not sample['has_depth']


def test_kitti_semantics_names_a_missing_label_file(tmp_path):
    _write(tmp_path / 'training' / 'image_2' / '000000_10.png', np.zeros((2, 3, 3), np.uint8))
    with pytest.raises(DatasetError, match=r'label file .*semantic/000000_10.png for'):
        KittiSemanticsDataset(tmp_path, SYNTHETIC)


def test_synthetic_frames_come_back_from_the_cache_identical_up_to_depth_quantisation(tmp_path):
    fresh = SyntheticDataset([4], size=(32, 96))[0]
    cached = SyntheticDataset([4], size=(32, 96), cache_dir=tmp_path)
    cached.prepare(progress=False)
    assert len(list(tmp_path.rglob('*.png'))) == 3
    assert (tmp_path / f'v{RENDERER_VERSION}-96x32' / 'rgb' / '00000004.png').is_file()
    again = cached[0]
    assert torch.equal(fresh['image'], again['image'])
    assert torch.equal(fresh['labels'], again['labels'])
    assert torch.allclose(fresh['depth'], again['depth'], atol=0.5 / 256)


def test_datasets_mix_with_their_task_flags(nyud_root, kitti_roots):
    nyud = get_class_set('nyuv2_40')
    mixed = build_datasets([{'type': 'nyud', 'root': str(nyud_root)},
                            {'type': 'kitti_depth', 'raw_root': str(kitti_roots[0]),
                             'depth_root': str(kitti_roots[1]), 'split': 'val'}], nyud)
    flags = [(bool(s['has_labels']), bool(s['has_depth'])) for s in mixed]
    assert flags == [(True, True), (True, False), (False, True)]


def test_dataset_specs_with_an_unknown_type_or_missing_keys_are_rejected():
    with pytest.raises(TrainingConfigError, match=r"unknown dataset type 'coco'; choose one"):
        build_dataset({'type': 'coco'}, SYNTHETIC)
    with pytest.raises(TrainingConfigError, match=r"dataset 'nyud' needs key\(s\) \['root'\]"):
        build_dataset({'type': 'nyud'}, SYNTHETIC)
