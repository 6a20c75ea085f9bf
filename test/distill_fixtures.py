# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Sources to distil, in the formats users have: an image folder, a video, a rosbag2."""

from __future__ import annotations

from pathlib import Path

import cv2
from mtl_perception.synthetic import render_frame
from mtl_perception.tools.kitti_to_bag import image_message, TYPESTORE
import numpy as np
from rosbags.rosbag2 import StoragePlugin, Writer

SIZE = (48, 160)


def frames(count: int, seed: int = 2000) -> list[np.ndarray]:
    """Render street frames of :data:`SIZE`."""
    return [render_frame(seed + i, width=SIZE[1], height=SIZE[0]).rgb for i in range(count)]


def image_folder(folder: Path, count: int) -> Path:
    """Write PNG frames into a folder."""
    folder.mkdir(parents=True)
    for index, rgb in enumerate(frames(count)):
        cv2.imwrite(str(folder / f'{index:04d}.png'), rgb[..., ::-1])
    return folder


def video(path: Path, count: int, fps: float = 10.0) -> Path:
    """Write an MJPEG AVI of rendered frames."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), fps,
                             (SIZE[1], SIZE[0]))
    for rgb in frames(count):
        writer.write(np.ascontiguousarray(rgb[..., ::-1]))
    writer.release()
    return path


def _header(stamp_ns: int, frame_id: str) -> object:
    types = TYPESTORE.types
    return types['std_msgs/msg/Header'](
        stamp=types['builtin_interfaces/msg/Time'](sec=stamp_ns // 10**9,
                                                   nanosec=stamp_ns % 10**9),
        frame_id=frame_id)


def _transform(parent: str, child: str, translation, quaternion) -> object:
    types = TYPESTORE.types
    return types['geometry_msgs/msg/TransformStamped'](
        header=_header(0, parent), child_frame_id=child,
        transform=types['geometry_msgs/msg/Transform'](
            translation=types['geometry_msgs/msg/Vector3'](*translation),
            rotation=types['geometry_msgs/msg/Quaternion'](*quaternion)))


def cloud_message(points: np.ndarray, header: object) -> object:
    """Build a rosbags PointCloud2 of float32 x, y, z, intensity."""
    types = TYPESTORE.types
    field = types['sensor_msgs/msg/PointField']
    data = np.zeros((len(points), 4), np.float32)
    data[:, :3] = points
    return types['sensor_msgs/msg/PointCloud2'](
        header=header, height=1, width=len(points),
        fields=[field(name=n, offset=4 * i, datatype=7, count=1)
                for i, n in enumerate('x y z intensity'.split())],
        is_bigendian=False, point_step=16, row_step=16 * len(points),
        data=data.view(np.uint8).reshape(-1), is_dense=True)


#: The camera's pose in base_link: 0.3 m forward, 1.6 m up, optical axes (z forward, y down).
CAMERA_IN_BASE = ((0.3, 0.0, 1.6), (-0.5, 0.5, -0.5, 0.5))
#: The LiDAR's pose in base_link: 1.9 m up, no rotation.
LIDAR_IN_BASE = ((0.0, 0.0, 1.9), (0.0, 0.0, 0.0, 1.0))
INTRINSICS_P = (90.0, 90.0, 80.0, 24.0)


def lidar_to_camera(points: np.ndarray) -> np.ndarray:
    """Return where LiDAR points are in the camera's optical frame, worked out by hand."""
    base = points + np.array(LIDAR_IN_BASE[0])
    relative = base - np.array(CAMERA_IN_BASE[0])  # x forward, y left, z up
    return np.stack([-relative[:, 1], -relative[:, 2], relative[:, 0]], axis=1)


def rig_bag(path: Path, count: int, points: np.ndarray, *, storage: str = 'sqlite3',
            compressed: bool = False, calibrated_scale: int = 1) -> Path:
    """Write a bag: a camera (image + CameraInfo, P != K), a LiDAR and the rig's /tf_static.

    ``calibrated_scale`` > 1 makes the stream a resized one: its CameraInfo describes the
    sensor at that many times the frames' size.
    """
    types = TYPESTORE.types
    plugin = StoragePlugin.MCAP if storage == 'mcap' else StoragePlugin.SQLITE3
    image_type = 'sensor_msgs/msg/CompressedImage' if compressed else 'sensor_msgs/msg/Image'
    image_topic = '/cam/image_raw/compressed' if compressed else '/cam/image_raw'
    with Writer(path, version=8, storage_plugin=plugin) as writer:
        tf_static = writer.add_connection('/tf_static', 'tf2_msgs/msg/TFMessage',
                                          typestore=TYPESTORE)
        image = writer.add_connection(image_topic, image_type, typestore=TYPESTORE)
        info = writer.add_connection('/cam/camera_info', 'sensor_msgs/msg/CameraInfo',
                                     typestore=TYPESTORE)
        lidar = writer.add_connection('/velodyne_points', 'sensor_msgs/msg/PointCloud2',
                                      typestore=TYPESTORE)
        rig = types['tf2_msgs/msg/TFMessage'](transforms=[
            _transform('base_link', 'camera_optical', *CAMERA_IN_BASE),
            _transform('base_link', 'velodyne', *LIDAR_IN_BASE)])
        writer.write(tf_static, 1, TYPESTORE.serialize_cdr(rig, 'tf2_msgs/msg/TFMessage'))
        fx, fy, cx, cy = (value * calibrated_scale for value in INTRINSICS_P)
        height, width = (side * calibrated_scale for side in SIZE)
        for index, rgb in enumerate(frames(count)):
            stamp = (index + 1) * 100_000_000
            header = _header(stamp, 'camera_optical')
            scan = cloud_message(points, _header(stamp - 5_000_000, 'velodyne'))
            writer.write(lidar, stamp - 5_000_000,
                         TYPESTORE.serialize_cdr(scan, 'sensor_msgs/msg/PointCloud2'))
            camera = types['sensor_msgs/msg/CameraInfo'](
                header=header, height=height, width=width, distortion_model='plumb_bob',
                d=np.zeros(5), k=np.array([1.0, 0, 2, 0, 1.0, 2, 0, 0, 1]), r=np.eye(3).ravel(),
                p=np.array([fx, 0, cx, 0, 0, fy, cy, 0, 0, 0, 1, 0], float), binning_x=0,
                binning_y=0, roi=types['sensor_msgs/msg/RegionOfInterest'](
                    x_offset=0, y_offset=0, height=0, width=0, do_rectify=False))
            writer.write(info, stamp, TYPESTORE.serialize_cdr(camera,
                                                              'sensor_msgs/msg/CameraInfo'))
            if compressed:
                ok, png = cv2.imencode('.png', rgb[..., ::-1])
                message = types['sensor_msgs/msg/CompressedImage'](
                    header=header, format='png', data=png.reshape(-1))
            else:
                message = image_message(rgb, 'rgb8', header)
            writer.write(image, stamp, TYPESTORE.serialize_cdr(message, image_type))
    return path
