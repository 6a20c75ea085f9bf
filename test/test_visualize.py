# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Tests of the pictures made for people."""

from mtl_perception.visualize import colourise_depth, colourise_labels, mosaic
import numpy as np


def test_labels_take_their_palette_colour_and_unknown_ids_are_black():
    palette = np.array([[10, 20, 30], [200, 100, 0]], dtype=np.uint8)
    labels = np.array([[0, 1], [255, 7]], dtype=np.uint8)
    image = colourise_labels(labels, palette)
    assert image.shape == (2, 2, 3)
    np.testing.assert_array_equal(image[0, 0], [10, 20, 30])
    np.testing.assert_array_equal(image[0, 1], [200, 100, 0])
    np.testing.assert_array_equal(image[1], 0)


def test_depth_colours_are_black_where_invalid_and_differ_near_and_far():
    depth = np.array([[1.0, 50.0, np.nan, -1.0]], dtype=np.float32)
    image = colourise_depth(depth, (0.5, 80.0))
    assert image.dtype == np.uint8
    np.testing.assert_array_equal(image[0, 2:], 0)
    near, far = image[0, 0].astype(int), image[0, 1].astype(int)
    assert near[0] > near[2]
    assert far[2] > far[0]


def test_mosaic_places_images_side_by_side():
    left = np.zeros((4, 3, 3), dtype=np.uint8)
    right = np.full((4, 5, 3), 9, dtype=np.uint8)
    combined = mosaic(left, right)
    assert combined.shape == (4, 8, 3)
    assert (combined[:, 3:] == 9).all()
