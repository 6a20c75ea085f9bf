# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Distillation frames from a rosbag2 (sqlite3 or MCAP), read with ``rosbags`` (no ROS needed).

Camera frames come from ``sensor_msgs/Image`` or ``CompressedImage`` topics; each frame takes
the latest CameraInfo of its sibling topic (``<namespace>/camera_info``, as image_transport
pairs them) for its intrinsics: P when it is set (rectified images), K otherwise. With
``--lidar-topic``, the latest scan (at most ``LIDAR_WINDOW_NS`` older than the frame) is moved
into the camera's optical frame through the bag's ``/tf_static`` and kept as depth anchors.
"""

from __future__ import annotations

from collections.abc import Iterator
import logging
from pathlib import Path
from typing import Any

from mtl_perception.camera_model import frame_intrinsics
from mtl_perception.errors import ConversionError
from mtl_perception.formats.ros_clouds import pointcloud2_to_array
from mtl_perception.formats.ros_images import frame_to_rgb, MAX_FRAME_PIXELS
from mtl_perception.formats.transform_tree import TransformTree
from mtl_perception.training.distillation.sources import Every, Frame, stream_key, Wanted
from mtl_perception.training.errors import DistillError
import numpy as np
from rosbags.rosbag2 import Reader
from rosbags.typesys import get_typestore, Stores

LOGGER = logging.getLogger(__name__)
IMAGE_TYPES = ('sensor_msgs/msg/Image', 'sensor_msgs/msg/CompressedImage')
LIDAR_WINDOW_NS = 100_000_000
TYPESTORE = get_typestore(Stores.ROS2_HUMBLE)


def info_topic(image_topic: str) -> str:
    """Return the CameraInfo topic image_transport pairs with ``image_topic``."""
    suffix = '/compressed'
    base = image_topic[:-len(suffix)] if image_topic.endswith(suffix) else image_topic
    return f'{base.rsplit("/", 1)[0]}/camera_info'


def intrinsics_of(info: Any, width: int, height: int) -> tuple[float, float, float, float] | None:
    """Return ``(fx, fy, cx, cy)`` of a ``width x height`` frame as the node reads them.

    Through the camera model (:func:`~mtl_perception.camera_model.frame_intrinsics`): P
    when set, else K; region of interest and binning; a resized stream rescaled. None when
    the CameraInfo does not describe the frame (another aspect ratio, unusable matrices).
    """
    try:
        k = frame_intrinsics(info, (), width, height)
    except ConversionError:
        return None
    return (k.fx, k.fy, k.cx, k.cy) if k is not None else None


class BagSource:
    """The image topics of one bag, with CameraInfo and (optionally) LiDAR anchors.

    Raises:
        DistillError: Unreadable bag, or a named topic that is absent or not of the right
            type; the message lists the bag's image topics.
    """

    def __init__(self, path: Path, every: Every, image_topics: list[str],
                 lidar_topic: str | None) -> None:
        self.path, self.every, self.lidar_topic = path, every, lidar_topic
        try:
            with Reader(path) as reader:
                self.types = {c.topic: c.msgtype for c in reader.connections}
                self.counts = {c.topic: c.msgcount for c in reader.connections}
                self.seconds = reader.duration * 1e-9
        except Exception as error:  # noqa: B902  rosbags raises many types for damaged bags
            raise DistillError(f'{path}: not a readable rosbag2 ({type(error).__name__}: '
                               f'{str(error)[:160]})') from None
        cameras = sorted(t for t, kind in self.types.items() if kind in IMAGE_TYPES)
        for topic in image_topics:
            if self.types.get(topic) not in IMAGE_TYPES:
                raise DistillError(f'{path}: no image topic {topic!r} in this bag (its image '
                                   f'topics: {cameras or "none"})')
        if not image_topics and len(cameras) != 1:
            raise DistillError(f'{path}: {len(cameras)} image topics ({cameras or "none"}); '
                               'choose with --image-topic (repeatable)')
        if lidar_topic and self.types.get(lidar_topic) != 'sensor_msgs/msg/PointCloud2':
            raise DistillError(f'{path}: no PointCloud2 topic {lidar_topic!r} in this bag')
        self.image_topics = image_topics or cameras
        self.prefixes = {topic: stream_key(path, topic) for topic in self.image_topics}
        self.damage: list[str] = []

    def estimated_frames(self) -> int:
        """About how many frames ``--every`` keeps over the image topics."""
        return sum(self.every.estimate(self.counts[t], self.seconds) for t in self.image_topics)

    def frames(self, wanted: Wanted) -> Iterator[Frame]:
        """Yield the selected, wanted frames in bag order (others are not deserialised)."""
        infos = {info_topic(t): t for t in self.image_topics if info_topic(t) in self.types}
        transforms = self._static_transforms()
        keep = {topic: self.every.selector() for topic in self.image_topics}
        counts = dict.fromkeys(self.image_topics, 0)
        latest_info: dict[str, Any] = {}
        scan: tuple[int, Any] | None = None
        topics = [*self.image_topics, *infos, *([self.lidar_topic] if self.lidar_topic else [])]
        with Reader(self.path) as reader:
            connections = [c for c in reader.connections if c.topic in topics]
            for connection, bag_time, raw in reader.messages(connections=connections):
                topic = connection.topic
                if topic in infos:
                    latest_info[infos[topic]] = self._decode(raw, connection.msgtype)
                    continue
                if topic == self.lidar_topic:
                    scan = (bag_time, raw)
                    continue
                index = counts[topic]
                counts[topic] += 1
                key = f'{self.prefixes[topic]}-{index:06d}'
                if not keep[topic](index, bag_time) or not wanted(key):
                    continue
                message = self._decode(raw, connection.msgtype)
                yield self._frame(key, topic, index, message, latest_info.get(topic),
                                  scan if scan and bag_time - scan[0] <= LIDAR_WINDOW_NS
                                  else None, transforms)

    def _frame(self, key: str, topic: str, index: int, message: Any, info: Any,
               scan: tuple[int, Any] | None, transforms: TransformTree) -> Frame:
        stamp = message.header.stamp.sec * 1_000_000_000 + message.header.stamp.nanosec
        try:
            rgb = np.ascontiguousarray(frame_to_rgb(message, MAX_FRAME_PIXELS))
        except Exception as error:  # noqa: B902  a bad frame is skipped, not fatal
            LOGGER.warning('%s: frame %d of %s does not decode: %s', self.path, index, topic,
                           error)
            rgb = np.empty((0, 0, 3), np.uint8)
        intrinsics = (intrinsics_of(info, rgb.shape[1], rgb.shape[0])
                      if info is not None and rgb.size else None)
        frame = Frame(key, rgb, str(self.path), topic, index, stamp, intrinsics)
        if scan is not None:
            cloud = self._decode(scan[1], 'sensor_msgs/msg/PointCloud2')
            camera = message.header.frame_id
            pose = transforms.lookup(camera, cloud.header.frame_id)
            if pose is not None:
                fields = pointcloud2_to_array(cloud).reshape(-1)
                points = np.stack([fields['x'], fields['y'], fields['z']], 1).astype(np.float64)
                frame.points = points[np.isfinite(points).all(1)] @ pose[:3, :3].T + pose[:3, 3]
        return frame

    def _static_transforms(self) -> TransformTree:
        transforms = TransformTree()
        if not self.lidar_topic or '/tf_static' not in self.types:
            return transforms
        with Reader(self.path) as reader:  # (an empty connection list would read them all)
            static = [c for c in reader.connections if c.topic == '/tf_static']
            for connection, _, raw in reader.messages(connections=static):
                for item in self._decode(raw, connection.msgtype).transforms:
                    transforms.add(item.header.frame_id, item.child_frame_id,
                                   item.transform.translation, item.transform.rotation)
        return transforms

    @staticmethod
    def _decode(raw: bytes, msgtype: str) -> Any:
        return TYPESTORE.deserialize_cdr(raw, msgtype)
