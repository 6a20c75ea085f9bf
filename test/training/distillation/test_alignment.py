# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Relative depth is made metric by a robust fit against LiDAR returns or the ground plane."""

from __future__ import annotations

import math

from mtl_perception.training.distillation.alignment import (
    apply_fit, fit_inverse_depth, ground_anchors, points_to_anchors
)
import numpy as np

SIZE = (60, 80)
INTRINSICS = (70.0, 70.0, 40.0, 30.0)


def _scene_depth() -> np.ndarray:
    rows, cols = np.mgrid[0:SIZE[0], 0:SIZE[1]]
    return (4.0 + 30.0 * (1 - rows / SIZE[0]) + 3.0 * np.sin(cols / 7.0)).astype(np.float64)


def _lidar_points(depth: np.ndarray, rng: np.random.Generator, count: int) -> np.ndarray:
    """Points on the surface seen at ``depth``, as a scanner returns them (camera frame)."""
    fx, fy, cx, cy = INTRINSICS
    rows = rng.integers(0, SIZE[0], count)
    cols = rng.integers(0, SIZE[1], count)
    z = depth[rows, cols]
    # integer pixel coordinates are pixel centres (mtl_perception.geometry)
    return np.stack([(cols - cx) * z / fx, (rows - cy) * z / fy, z], axis=1)


def test_a_known_scale_is_recovered_from_lidar_like_anchors_within_two_percent():
    rng = np.random.default_rng(0)
    depth = _scene_depth()
    relative = (1.0 / depth - 0.01) / 0.004  # the teacher's affine-invariant inverse depth
    points = _lidar_points(depth, rng, 400)
    points[:, 2] *= rng.normal(1.0, 0.01, len(points))  # 1 % range noise
    points[:40, 2] *= 0.3  # returns from a window frame, a passing car: outliers
    anchors = points_to_anchors(points, INTRINSICS, SIZE, (0.5, 80.0))
    fit = fit_inverse_depth(relative, anchors)
    assert anchors.kind == 'lidar' and fit is not None
    assert math.isclose(fit.scale, 0.004, rel_tol=0.02)
    metres = apply_fit(relative, fit)
    assert np.median(np.abs(metres - depth) / depth) < 0.02
    assert fit.residual < 0.02 and fit.inliers < fit.anchors


def test_the_nearest_return_of_a_pixel_is_its_anchor():
    points = np.array([[0.0, 0.0, 10.0], [0.0, 0.0, 5.0], [0.0, 0.0, 20.0],
                       [0.0, 0.0, -3.0], [100.0, 0.0, 1.0]])
    anchors = points_to_anchors(points, INTRINSICS, SIZE, (0.5, 80.0))
    assert len(anchors) == 1 and anchors.depth[0] == 5.0
    assert (anchors.rows[0], anchors.cols[0]) == (30, 40)


def test_ground_anchors_are_where_the_ray_meets_the_plane_below_a_pitched_camera():
    ground = np.zeros(SIZE, dtype=bool)
    ground[40:, :] = True
    height, pitch = 1.5, math.radians(5.0)
    anchors = ground_anchors(ground, INTRINSICS, height, pitch, (0.5, 80.0))
    assert anchors.kind == 'ground plane' and len(anchors) == 20 * SIZE[1]
    _, fy, _, cy = INTRINSICS
    for row, depth in zip(anchors.rows[::97], anchors.depth[::97]):
        ray_y = (row + 0.5 - cy) / fy  # the camera-frame point (., ray_y * z, z) is
        point_height = ray_y * depth * math.cos(pitch) + depth * math.sin(pitch)
        assert math.isclose(point_height, height, rel_tol=1e-9)  # height m below the camera


def test_too_few_or_degenerate_anchors_give_no_fit():
    relative = np.ones(SIZE)
    points = _lidar_points(_scene_depth(), np.random.default_rng(1), 10)
    assert fit_inverse_depth(relative, points_to_anchors(points, INTRINSICS, SIZE,
                                                         (0.5, 80.0))) is None
    many = _lidar_points(_scene_depth(), np.random.default_rng(1), 300)
    assert fit_inverse_depth(relative, points_to_anchors(many, INTRINSICS, SIZE,
                                                         (0.5, 80.0))) is None
