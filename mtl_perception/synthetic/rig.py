# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The synthetic car's rig: where the IMU, the LiDAR and the camera sit, and its OXTS record.

The street's world frame is x right, y up, z forward (left-handed); KITTI's poses are
east-north-up. The street runs east: ``WORLD_TO_ENU`` maps east = z, north = -x, up = y.
The car carries its OXTS unit ``IMU_HEIGHT_M`` above the road under the left camera, with
the axes of the car (x forward, y left, z up, no pitch or roll), and the LiDAR with the same
axes ``LIDAR_FROM_CAMERA_M`` from the camera's centre (as KITTI's is: 0.27 m behind,
0.08 m above). The camera keeps its own pitch and roll against the car.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

from mtl_perception.formats.kitti_oxts import (
    FIELDS, mercator_scale, OxtsRecord, rotation_rpy, to_degrees, to_metres
)
from mtl_perception.formats.kitti_rig import rigid
from mtl_perception.synthetic.raycast import CameraPose
import numpy as np

WORLD_TO_ENU = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
IMU_HEIGHT_M = 0.93
LIDAR_FROM_CAMERA_M = (-0.27, 0.0, 0.08)
ORIGIN_LATITUDE, ORIGIN_LONGITUDE, ORIGIN_ALTITUDE = 49.011, 8.4236, 112.0
GRAVITY = 9.81


def camera_in_enu(pose: CameraPose) -> np.ndarray:
    """4x4 east-north-up pose of the camera's optical frame."""
    return rigid(WORLD_TO_ENU @ pose.rotation(),
                 WORLD_TO_ENU @ np.array([pose.x, pose.height, pose.z]))


def heading(pose: CameraPose) -> float:
    """Return where the car under a camera points: radians counter-clockwise from east."""
    forward = pose.rotation()[:, 2]
    return math.atan2(-forward[0], forward[2])


def imu_in_enu(pose: CameraPose) -> np.ndarray:
    """4x4 east-north-up pose of the OXTS unit beneath the camera."""
    return rigid(rotation_rpy(0.0, 0.0, heading(pose)),
                 WORLD_TO_ENU @ np.array([pose.x, IMU_HEIGHT_M, pose.z]))


@dataclass(frozen=True)
class SyntheticRig:
    """Fixed transforms of the car (``T_a_b`` maps points in ``b`` to ``a``)."""

    imu_from_camera: np.ndarray
    imu_from_lidar: np.ndarray

    @classmethod
    def of(cls, pose: CameraPose) -> SyntheticRig:
        """Build the rig of a car whose left camera is at ``pose`` (any frame: it is fixed)."""
        imu_from_camera = np.linalg.inv(imu_in_enu(pose)) @ camera_in_enu(pose)
        lidar = imu_from_camera[:3, 3] + np.array(LIDAR_FROM_CAMERA_M)
        return cls(imu_from_camera, rigid(np.eye(3), lidar))

    @property
    def camera_from_lidar(self) -> np.ndarray:
        """``T_cam_velo``: what ``calib_velo_to_cam.txt`` holds (camera 0 = the left camera)."""
        return np.linalg.inv(self.imu_from_camera) @ self.imu_from_lidar

    def world_from_lidar(self, pose: CameraPose) -> np.ndarray:
        """Return the LiDAR-to-street-world transform with the left camera at ``pose``."""
        enu_to_world = rigid(WORLD_TO_ENU.T, np.zeros(3))
        return enu_to_world @ imu_in_enu(pose) @ self.imu_from_lidar


def oxts_records(poses: list[CameraPose], frame_rate_hz: float) -> list[OxtsRecord]:
    """OXTS records of the drive: position, orientation, velocities and rates by differences.

    Accelerations carry gravity on the up axis, as an IMU measures it.
    """
    scale = mercator_scale(ORIGIN_LATITUDE)
    east0, north0 = to_metres(ORIGIN_LATITUDE, ORIGIN_LONGITUDE, scale)
    poses_enu = [imu_in_enu(pose) for pose in poses]
    headings = np.unwrap([heading(pose) for pose in poses])
    positions = np.array([pose[:3, 3] for pose in poses_enu])
    velocity = np.gradient(positions, axis=0) * frame_rate_hz if len(poses) > 1 else \
        np.zeros_like(positions)
    acceleration = np.gradient(velocity, axis=0) * frame_rate_hz if len(poses) > 2 else \
        np.zeros_like(positions)
    yaw_rate = np.gradient(headings) * frame_rate_hz if len(poses) > 1 else np.zeros(len(poses))
    records = []
    for index, pose in enumerate(poses_enu):
        to_body = pose[:3, :3].T
        forward, left, up = to_body @ velocity[index]
        a_forward, a_left, a_up = to_body @ acceleration[index]
        latitude, longitude = to_degrees(east0 + pose[0, 3], north0 + pose[1, 3], scale)
        values = {
            'lat': latitude, 'lon': longitude, 'alt': ORIGIN_ALTITUDE + pose[2, 3],
            'roll': 0.0, 'pitch': 0.0, 'yaw': float(headings[index]),
            'vn': velocity[index, 1], 've': velocity[index, 0], 'vf': forward, 'vl': left,
            'vu': up, 'ax': a_forward, 'ay': a_left, 'az': a_up + GRAVITY, 'af': a_forward,
            'al': a_left, 'au': a_up + GRAVITY, 'wx': 0.0, 'wy': 0.0, 'wz': yaw_rate[index],
            'wf': 0.0, 'wl': 0.0, 'wu': yaw_rate[index], 'pos_accuracy': 0.05,
            'vel_accuracy': 0.02, 'navstat': 4, 'numsats': 10, 'posmode': 5, 'velmode': 5,
            'orimode': 6}
        records.append(OxtsRecord(tuple(float(values[name]) for name in FIELDS)))
    return records
