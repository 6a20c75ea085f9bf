# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Predicted depth scored against a bag's LiDAR (``mtl_process_bag --lidar-topic``).

Each frame is paired with the scan nearest to it in time (header stamps, at most
``PAIRING_WINDOW_NS`` apart: half of a 10 Hz LiDAR's period); the scan is moved into the
camera's optical frame through the bag's ``/tf_static``, projected with the frame's
CameraInfo (the same intrinsics the cloud uses) and scored by
:class:`~mtl_perception.depth_scoring.DriveScorer`. Frames come in bag order, so a frame is
scored once the first scan after it has been read (or the bag ends).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mtl_perception.depth_scoring import DriveScorer
from mtl_perception.formats.ros_clouds import pointcloud2_to_array
from mtl_perception.formats.transform_tree import TransformTree
from mtl_perception.geometry import Intrinsics
from mtl_perception.lidar_projection import project_nearest, transform_points
from mtl_perception.ros.errors import ProcessBagError
import numpy as np
from rosbags.rosbag2 import Reader
from rosbags.typesys import get_typestore, Stores

TYPESTORE = get_typestore(Stores.ROS2_HUMBLE)
PAIRING_WINDOW_NS = 50_000_000
CLOUD_TYPE = 'sensor_msgs/msg/PointCloud2'


def _stamp(message: Any) -> int:
    return message.header.stamp.sec * 10**9 + message.header.stamp.nanosec


def static_transforms(reader: Reader) -> TransformTree:
    """Collect every ``/tf_static`` transform of the bag into one tree."""
    tree = TransformTree()
    static = [c for c in reader.connections if c.topic == '/tf_static']
    if static:  # (an empty connection list would read every message)
        for connection, _, raw in reader.messages(connections=static):
            for item in TYPESTORE.deserialize_cdr(raw, connection.msgtype).transforms:
                tree.add(item.header.frame_id, item.child_frame_id, item.transform.translation,
                         item.transform.rotation)
    return tree


@dataclass
class _Frame:
    stamp: int
    frame_id: str
    depth: np.ndarray
    intrinsics: Intrinsics


class LidarScoring:
    """Pairs frames with scans and scores them.

    Raises:
        ProcessBagError: The topic is not a PointCloud2 topic of the bag, or the bag has no
            ``/tf_static`` to place the LiDAR against the camera.
    """

    def __init__(self, reader: Reader, topic: str, scorer: DriveScorer) -> None:
        clouds = sorted(c.topic for c in reader.connections if c.msgtype == CLOUD_TYPE)
        if topic not in clouds:
            raise ProcessBagError(f'--lidar-topic {topic} is not a PointCloud2 topic of the '
                                  f'bag (PointCloud2 topics: {clouds or "none"})')
        self.tree = static_transforms(reader)
        if not self.tree.frames:
            raise ProcessBagError('the bag has no /tf_static: nothing places the LiDAR '
                                  'against the camera (mtl_kitti_to_bag writes it for drives '
                                  'with calib_velo_to_cam.txt)')
        self.topic, self.scorer = topic, scorer
        self.scans: list[tuple[int, str, np.ndarray]] = []
        self.pending: list[_Frame] = []
        self.unpaired = 0

    def add_scan(self, raw: bytes) -> None:
        """Take one scan of the LiDAR topic; score the frames that were waiting for it."""
        cloud = TYPESTORE.deserialize_cdr(raw, CLOUD_TYPE)
        fields = pointcloud2_to_array(cloud).reshape(-1)
        points = np.stack([fields['x'], fields['y'], fields['z']], axis=1).astype(np.float64)
        self.scans = [*self.scans[-1:], (_stamp(cloud), cloud.header.frame_id, points)]
        waiting = [frame for frame in self.pending if frame.stamp > self.scans[-1][0]]
        for frame in self.pending:
            if frame.stamp <= self.scans[-1][0]:
                self._score(frame)
        self.pending = waiting

    def add_frame(self, stamp: int, frame_id: str, depth: np.ndarray,
                  intrinsics: Intrinsics) -> None:
        """Take one predicted frame (metres, the frame's size); scored when its scan is known."""
        self.pending.append(_Frame(stamp, frame_id, depth, intrinsics))

    def skip_frame(self) -> None:
        """Count a frame that cannot be scored: without intrinsics no scan can be projected."""
        self.unpaired += 1

    def finish(self) -> None:
        """Score the frames after the last scan."""
        for frame in self.pending:
            self._score(frame)
        self.pending = []

    def _score(self, frame: _Frame) -> None:
        if not self.scans:
            self.unpaired += 1
            return
        stamp, lidar_frame, points = min(self.scans, key=lambda scan: abs(scan[0] - frame.stamp))
        if abs(stamp - frame.stamp) > PAIRING_WINDOW_NS:
            self.unpaired += 1
            return
        camera_from_lidar = self.tree.lookup(frame.frame_id, lidar_frame)
        if camera_from_lidar is None:
            raise ProcessBagError(f'/tf_static has no path from {lidar_frame!r} to the camera '
                                  f'frame {frame.frame_id!r} (frames: '
                                  f'{", ".join(sorted(self.tree.frames))})')
        truth = project_nearest(transform_points(points, camera_from_lidar), frame.intrinsics,
                                (self.scorer.min_depth, self.scorer.max_depth))
        if self.scorer.add(frame.stamp, truth, frame.depth) is None:
            self.unpaired += 1

    def summary(self) -> dict[str, object]:
        """Return the scorer's summary, the LiDAR topic and how many frames went unscored."""
        return {'lidar_topic': self.topic, **self.scorer.summary(),
                'frames_not_scored': self.unpaired}
