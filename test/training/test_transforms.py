# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Joint transforms keep image, labels and depth aligned and metric depth consistent."""

from __future__ import annotations

from mtl_perception.labels import IGNORE_ID
from mtl_perception.training.datasets import make_sample
from mtl_perception.training.errors import TrainingConfigError
from mtl_perception.training.transforms import (
    BlurAndJpeg, RandomCrop, RandomHorizontalFlip, RandomScale, Resize, training_transform
)
import numpy as np
import pytest
import torch


@pytest.fixture
def sample():
    """Make a 4x6 sample whose columns are distinguishable in every modality."""
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[..., 0] = np.arange(6) * 40
    labels = np.tile(np.arange(6, dtype=np.uint8), (4, 1))
    depth = np.tile(np.arange(1, 7, dtype=np.float32), (4, 1))
    depth[0, 0] = np.nan
    return make_sample(rgb, labels, depth)


def test_zooming_in_twice_halves_depth_and_keeps_labels_nearest(sample):
    torch.manual_seed(0)
    zoomed = RandomScale(2.0, 2.0)(sample)
    assert zoomed['image'].shape == (3, 8, 12)
    assert set(zoomed['labels'].unique().tolist()) == set(range(6))
    np.testing.assert_allclose(zoomed['depth'][2, ::2].numpy(), np.arange(1, 7) / 2)
    assert zoomed['depth'][0, 0] == 0


def test_resizing_to_the_network_size_leaves_depth_values_unchanged(sample):
    resized = Resize((2, 3))(sample)
    assert resized['image'].shape == (3, 2, 3)
    assert set(resized['depth'].unique().tolist()) <= set(range(0, 7))


def test_a_crop_larger_than_the_sample_pads_with_ignore_and_invalid_depth(sample):
    cropped = RandomCrop((6, 8))(sample)
    assert cropped['image'].shape == (3, 6, 8)
    assert (cropped['labels'][4:] == IGNORE_ID).all()
    assert (cropped['labels'][:, 6:] == IGNORE_ID).all()
    assert (cropped['depth'][4:] == 0).all() and (cropped['image'][:, 4:] == 0).all()


def test_flipping_mirrors_every_modality_together(sample):
    flipped = RandomHorizontalFlip(p=1.0)(sample)
    assert flipped['labels'][0].tolist() == [5, 4, 3, 2, 1, 0]
    assert flipped['depth'][1].tolist() == [6, 5, 4, 3, 2, 1]
    assert flipped['image'][0, 0, 0] == 200


def test_training_transform_yields_crops_of_the_input_size(sample):
    transform = training_transform((4, 4), base_size=(4, 6), scale=(0.9, 1.1))
    out = transform(sample)
    assert out['image'].shape == (3, 4, 4) and out['labels'].shape == (4, 4)
    assert out['image'].dtype == torch.uint8


def test_an_empty_scale_range_is_rejected_with_its_values():
    with pytest.raises(TrainingConfigError, match=r'0 < low <= high, got \(1.5, 1.0\)'):
        RandomScale(1.5, 1.0)


def test_a_flip_mirrors_normals_and_a_padded_crop_marks_them_invalid():
    rgb = np.zeros((4, 6, 3), np.uint8)
    normals = np.zeros((4, 6, 3), np.float32)
    normals[..., 0] = np.linspace(-0.6, 0.6, 6)
    normals[..., 2] = -0.8
    sample = make_sample(rgb, normals=normals)
    flipped = RandomHorizontalFlip(p=1.0)(sample)
    expected = torch.from_numpy(normals[:, ::-1].copy()).permute(2, 0, 1)
    expected[0] = -expected[0]
    torch.testing.assert_close(flipped['normals'], expected)
    cropped = RandomCrop((6, 6))(sample)
    assert cropped['normals'].shape == (3, 6, 6)
    assert (cropped['normals'].norm(dim=0) > 0).sum() == 4 * 6


def test_blur_and_jpeg_degrade_the_image_and_leave_labels_and_depth_alone(sample):
    torch.manual_seed(0)
    rgb = np.random.default_rng(0).integers(0, 255, (32, 48, 3), dtype=np.uint8)
    textured = make_sample(rgb, np.zeros((32, 48), np.uint8), np.ones((32, 48), np.float32))
    degraded = BlurAndJpeg(p_blur=1.0, p_jpeg=1.0)(textured)
    assert degraded['image'].dtype == torch.uint8
    assert (degraded['image'].float() - textured['image'].float()).abs().mean() > 10
    assert torch.equal(degraded['labels'], textured['labels'])
    assert torch.equal(degraded['depth'], textured['depth'])
    assert torch.equal(BlurAndJpeg(p_blur=0.0, p_jpeg=0.0)(textured)['image'],
                       textured['image'])
