# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The synthetic renderer: determinism, consistency of labels and depth, and true geometry."""

from __future__ import annotations

from mtl_perception.geometry import backproject
from mtl_perception.synthetic import (
    CameraPose, CLASS_SET, generate_street, kitti_like_intrinsics, render, render_drive,
    render_frame
)
import numpy as np
import pytest
import torch

SKY = CLASS_SET.names.index('sky')
ROAD = CLASS_SET.names.index('road')
SIDEWALK = CLASS_SET.names.index('sidewalk')


@pytest.fixture(scope='module')
def frame():
    """Render one small frame."""
    return render_frame(7, width=160, height=48)


def test_a_frame_has_rgb_depth_and_labels_of_the_requested_size(frame):
    assert frame.rgb.shape == (48, 160, 3) and frame.rgb.dtype == np.uint8
    assert frame.depth.shape == (48, 160) and frame.depth.dtype == np.float32
    assert frame.labels.shape == (48, 160) and frame.labels.dtype == np.uint8
    assert frame.labels.max() < CLASS_SET.num_classes
    assert (frame.intrinsics.width, frame.intrinsics.height) == (160, 48)


def test_the_same_seed_renders_the_same_frame_and_another_seed_does_not(frame):
    again = render_frame(7, width=160, height=48)
    other = render_frame(8, width=160, height=48)
    np.testing.assert_array_equal(frame.rgb, again.rgb)
    np.testing.assert_array_equal(frame.labels, again.labels)
    np.testing.assert_array_equal(frame.depth, again.depth)
    assert not np.array_equal(frame.labels, other.labels)


def test_sky_has_no_depth_and_every_nearer_surface_has_depth(frame):
    sky = frame.labels == SKY
    assert sky.any()
    assert np.isnan(frame.depth[sky]).all()
    finite = np.isfinite(frame.depth)
    assert (frame.depth[finite] > 0).all() and (frame.depth[finite] <= 80).all()
    assert finite[~sky].mean() > 0.9


def test_road_depth_matches_the_ground_plane_seen_from_a_level_camera():
    intrinsics = kitti_like_intrinsics(200, 60)
    scene = generate_street(3)
    pose = CameraPose(x=scene.ego_x, height=1.6, z=0.0)
    result = render(scene, pose, intrinsics)
    rows = np.arange(60)[:, None].repeat(200, 1).astype(np.float64)
    road = (result.labels == ROAD) & np.isfinite(result.depth)
    expected = 1.6 * intrinsics.fy / (rows[road] - intrinsics.cy)
    np.testing.assert_allclose(result.depth[road], expected, rtol=1e-4)


def test_back_projected_road_and_sidewalk_points_lie_on_their_surfaces():
    intrinsics = kitti_like_intrinsics(160, 48)
    scene = generate_street(5)
    pose = CameraPose(x=scene.ego_x, height=1.7, z=2.0, yaw=0.05, pitch=0.04, roll=0.01)
    result = render(scene, pose, intrinsics)
    points = backproject(torch.from_numpy(result.depth), intrinsics).reshape(-1, 3).numpy()
    world = points @ result.pose[:3, :3].T + result.pose[:3, 3]
    labels = result.labels.reshape(-1)
    valid = np.isfinite(world).all(1)
    road_heights = world[valid & (labels == ROAD), 1]
    assert road_heights.size > 100
    np.testing.assert_allclose(road_heights, 0.0, atol=2e-3)
    sidewalk = world[valid & (labels == SIDEWALK)]
    tops = sidewalk[np.abs(np.abs(sidewalk[:, 0]) - scene.road_half_width) > 0.05, 1]
    assert tops.size > 50
    assert np.ptp(tops) < 5e-3 and 0.1 - 1e-3 <= tops.mean() <= 0.2 + 1e-3


def test_streets_vary_and_together_show_every_class():
    seen = set()
    for seed in range(8):
        seen |= set(np.unique(render_frame(seed, width=160, height=48).labels).tolist())
    assert seen == set(range(CLASS_SET.num_classes))


def test_a_drive_moves_the_camera_forward_at_the_frame_rate():
    frames = list(render_drive(2, 3, speed=10.0, width=96, height=32))
    positions = np.array([f.pose[:3, 3] for f in frames])
    np.testing.assert_allclose(np.diff(positions[:, 2]), 1.0, atol=1e-9)
    assert not np.array_equal(frames[0].rgb, frames[1].rgb)
