# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The simulated 64-beam LiDAR, the synthetic car's rig and its OXTS records."""

from __future__ import annotations

import math

from mtl_perception.formats.kitti_oxts import imu_poses
from mtl_perception.geometry import Intrinsics
from mtl_perception.synthetic import drive_poses, drive_scene, FRAME_RATE_HZ, render
from mtl_perception.synthetic.lidar import (
    beam_directions, ELEVATIONS_DEG, FIRINGS_PER_REVOLUTION, simulate_scan
)
from mtl_perception.synthetic.raycast import CameraPose
from mtl_perception.synthetic.rig import (
    camera_in_enu, imu_in_enu, oxts_records, SyntheticRig, WORLD_TO_ENU
)
import numpy as np
import pytest

SEED, FRAMES = 12, 20


@pytest.fixture(scope='module')
def drive():
    """Build the street, poses and rig of a 20-frame drive and scan its frame 5."""
    poses = drive_poses(SEED, FRAMES)
    rig = SyntheticRig.of(poses[0])
    scene = drive_scene(SEED, FRAMES)
    world_from_lidar = rig.world_from_lidar(poses[5])
    return scene, poses, rig, world_from_lidar, simulate_scan(scene, world_from_lidar, seed=5)


def test_the_beams_have_the_hdl64e_geometry():
    directions = beam_directions()
    assert directions.shape == (64, FIRINGS_PER_REVOLUTION, 3)
    elevation = np.degrees(np.arcsin(directions[..., 2]))
    np.testing.assert_allclose(elevation, ELEVATIONS_DEG[:, None] + 0 * elevation, atol=1e-9)
    assert ELEVATIONS_DEG.max() == 2.0 and ELEVATIONS_DEG.min() == pytest.approx(-24.33)
    azimuth_step = 360.0 / FIRINGS_PER_REVOLUTION
    assert azimuth_step == pytest.approx(0.1728, abs=1e-3)


def _camera_along(direction: np.ndarray, origin: np.ndarray) -> CameraPose:
    """Place a camera at ``origin`` with its optical axis along ``direction`` (world)."""
    return CameraPose(x=origin[0], height=origin[1], z=origin[2],
                      yaw=math.atan2(-direction[0], direction[2]),
                      pitch=-math.asin(direction[1]))


def test_every_range_equals_the_renderers_depth_along_its_beam(drive):
    scene, _, _, world_from_lidar, scan = drive
    rng = np.random.default_rng(0)
    one_pixel = Intrinsics(100.0, 100.0, 0.0, 0.0, 1, 1)
    origin = world_from_lidar[:3, 3]
    chosen = rng.choice(len(scan.points), 40, replace=False)
    for index in chosen:
        beam = beam_directions()[scan.beams[index], scan.firings[index]]
        direction = world_from_lidar[:3, :3] @ beam
        frame = render(scene, _camera_along(direction, origin), one_pixel, max_depth=500.0)
        measured = float(np.linalg.norm(scan.points[index, :3]))
        assert measured == pytest.approx(float(frame.depth[0, 0]), rel=1e-4), index
        np.testing.assert_allclose(scan.points[index, :3] / measured, beam, atol=1e-5)


def test_reflectance_dropouts_and_range_are_those_of_a_real_scan(drive):
    scene, _, _, world_from_lidar, scan = drive
    ranges = np.linalg.norm(scan.points[:, :3], axis=1)
    assert 60_000 < len(scan.points) < 64 * FIRINGS_PER_REVOLUTION
    assert ranges.min() >= 0.9 and ranges.max() <= 120.0
    assert 0.0 < scan.points[:, 3].min() and scan.points[:, 3].max() <= 1.0
    again = simulate_scan(scene, world_from_lidar, seed=5)
    np.testing.assert_array_equal(again.points, scan.points)
    other = simulate_scan(scene, world_from_lidar, seed=6)
    assert len(other.points) != len(scan.points)  # dropouts are drawn per scan


def test_the_rig_is_the_same_in_every_frame_and_places_the_camera_where_it_renders(drive):
    _, poses, rig, _, _ = drive
    for pose in poses:
        np.testing.assert_allclose(SyntheticRig.of(pose).imu_from_camera, rig.imu_from_camera,
                                   atol=1e-9)
        np.testing.assert_allclose(imu_in_enu(pose) @ rig.imu_from_camera, camera_in_enu(pose),
                                   atol=1e-9)
    assert np.linalg.det(WORLD_TO_ENU) == pytest.approx(-1.0)  # left-handed street frame


def test_the_oxts_records_give_back_the_imu_poses_through_the_devkits_conversion(drive):
    _, poses, _, _, _ = drive
    records = oxts_records(poses, FRAME_RATE_HZ)
    expected = [imu_in_enu(pose) for pose in poses]
    for pose, truth in zip(imu_poses(records), expected):
        np.testing.assert_allclose(pose[:3, :3], truth[:3, :3], atol=1e-9)
        np.testing.assert_allclose(pose[:3, 3], truth[:3, 3] - expected[0][:3, 3], atol=1e-6)
    speed = [math.hypot(record.vf, record.vl) for record in records]
    assert speed == pytest.approx([8.0] * len(records), rel=0.02)
    assert all(record.au == pytest.approx(9.81, abs=0.05) for record in records)
