# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Tests of the pictures made for people."""

from mtl_perception.synthetic import render_frame
from mtl_perception.visualize import (
    colourise_depth, colourise_labels, depth_colour_bar, depth_scale, mosaic
)
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


def _warmth(colour: np.ndarray) -> np.ndarray:
    return colour[..., 0].astype(int) - colour[..., 2].astype(int)  # red minus blue


def test_near_road_is_warmer_than_far_road_and_the_scene_spans_the_scale():
    frame = render_frame(7, width=320, height=96)
    image = colourise_depth(frame.depth, (0.5, 80.0))
    road = np.isfinite(frame.depth) & (frame.depth > 0)
    near = road & (frame.depth < 8.0)
    far = road & (frame.depth > 25.0)
    assert near.any() and far.any()
    assert _warmth(image[near]).mean() > _warmth(image[far]).mean() + 100
    # the street's 3-60 m take most of the colours (the old inverse scale gave them 5 %)
    scale = depth_scale(np.array([3.0, 60.0]), (0.5, 80.0))
    assert scale[0] - scale[1] > 0.6


def test_the_colour_bar_matches_the_colours_and_is_labelled_in_metres():
    bar = depth_colour_bar((0.5, 80.0), height=20, width=400)
    assert bar.shape == (36, 400, 3)
    tens = colourise_depth(np.array([[10.0]], np.float32), (0.5, 80.0))[0, 0]
    x = int(round(np.log(10.0) / np.log(80.0) * 399))
    assert np.abs(bar[5, x].astype(int) - tens).max() <= 12
    assert (bar[20:] < 128).any()  # tick labels drawn below the bar
