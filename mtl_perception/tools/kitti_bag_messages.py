# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""rosbags messages of a KITTI drive's LiDAR, OXTS and rig, with kitti2bag's conventions.

LiDAR: ``sensor_msgs/PointCloud2`` with float32 x, y, z, intensity (the ``.bin`` records
as they are). OXTS: ``sensor_msgs/Imu`` in ``imu_link`` (orientation from roll, pitch, yaw
in east-north-up; rates wx, wy, wz and accelerations ax, ay, az about and along the unit's
own axes, gravity included, as kitti2bag), ``sensor_msgs/NavSatFix`` and
``geometry_msgs/TwistStamped`` (vf, vl, vu; wf, wl, wu: the forward-left-up axes).
Transforms: ``tf2_msgs/TFMessage``.
"""

from __future__ import annotations

from mtl_perception.formats.kitti_oxts import OxtsRecord, rotation_rpy
from mtl_perception.formats.transform_tree import matrix_quaternion
import numpy as np
from rosbags.typesys import get_typestore, Stores

TYPESTORE = get_typestore(Stores.ROS2_HUMBLE)
_FLOAT32 = 7


def header(stamp_ns: int, frame_id: str) -> object:
    """Build a ``std_msgs/Header``."""
    types = TYPESTORE.types
    stamp = types['builtin_interfaces/msg/Time'](sec=stamp_ns // 10**9,
                                                 nanosec=stamp_ns % 10**9)
    return types['std_msgs/msg/Header'](stamp=stamp, frame_id=frame_id)


def _vector(values: tuple[float, float, float]) -> object:
    vector = TYPESTORE.types['geometry_msgs/msg/Vector3']
    return vector(x=float(values[0]), y=float(values[1]), z=float(values[2]))


def _quaternion_message(rotation: np.ndarray) -> object:
    x, y, z, w = matrix_quaternion(rotation)
    return TYPESTORE.types['geometry_msgs/msg/Quaternion'](x=x, y=y, z=z, w=w)


def transform_stamped(stamp_ns: int, parent: str, child: str, transform: np.ndarray) -> object:
    """``geometry_msgs/TransformStamped``: the pose of ``child`` in ``parent`` (4x4)."""
    types = TYPESTORE.types
    return types['geometry_msgs/msg/TransformStamped'](
        header=header(stamp_ns, parent), child_frame_id=child,
        transform=types['geometry_msgs/msg/Transform'](
            translation=_vector(tuple(transform[:3, 3])),
            rotation=_quaternion_message(transform[:3, :3])))


def tf_message(transforms: list[object]) -> object:
    """``tf2_msgs/TFMessage`` of ``transforms``."""
    return TYPESTORE.types['tf2_msgs/msg/TFMessage'](transforms=transforms)


def pointcloud_message(points: np.ndarray, message_header: object) -> object:
    """``(N, 4)`` float32 x, y, z, reflectance as an unordered PointCloud2."""
    types = TYPESTORE.types
    points = np.ascontiguousarray(points, dtype='<f4')
    fields = [types['sensor_msgs/msg/PointField'](name=name, offset=4 * index,
                                                  datatype=_FLOAT32, count=1)
              for index, name in enumerate(('x', 'y', 'z', 'intensity'))]
    return types['sensor_msgs/msg/PointCloud2'](
        header=message_header, height=1, width=len(points), fields=fields, is_bigendian=False,
        point_step=16, row_step=16 * len(points), data=points.view(np.uint8).reshape(-1),
        is_dense=True)


def imu_message(record: OxtsRecord, message_header: object) -> object:
    """``sensor_msgs/Imu`` of one OXTS record (covariances unknown: zeros)."""
    types = TYPESTORE.types
    rates = _vector((record.wx, record.wy, record.wz))
    accelerations = _vector((record.ax, record.ay, record.az))
    return types['sensor_msgs/msg/Imu'](
        header=message_header,
        orientation=_quaternion_message(rotation_rpy(record.roll, record.pitch, record.yaw)),
        orientation_covariance=np.zeros(9), angular_velocity=rates,
        angular_velocity_covariance=np.zeros(9), linear_acceleration=accelerations,
        linear_acceleration_covariance=np.zeros(9))


def navsat_message(record: OxtsRecord, message_header: object) -> object:
    """``sensor_msgs/NavSatFix``: the OXTS position, its stated accuracy as covariance."""
    types = TYPESTORE.types
    status = types['sensor_msgs/msg/NavSatStatus'](status=0, service=1)  # a fix, by GPS
    variance = float(record.pos_accuracy) ** 2
    return types['sensor_msgs/msg/NavSatFix'](
        header=message_header, status=status, latitude=record.lat, longitude=record.lon,
        altitude=record.alt, position_covariance=np.diag([variance] * 3).reshape(-1),
        position_covariance_type=1)  # approximated from pos_accuracy


def velocity_message(record: OxtsRecord, message_header: object) -> object:
    """``geometry_msgs/TwistStamped`` in the vehicle frame (forward, left, up)."""
    types = TYPESTORE.types
    return types['geometry_msgs/msg/TwistStamped'](
        header=message_header, twist=types['geometry_msgs/msg/Twist'](
            linear=_vector((record.vf, record.vl, record.vu)),
            angular=_vector((record.wf, record.wl, record.wu))))
