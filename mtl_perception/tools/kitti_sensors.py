# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The non-camera part of a KITTI drive in a bag: Velodyne, OXTS and the rig's transforms.

Frames as kitti2bag names them: ``world -> base_link`` on ``/tf`` (from OXTS, the devkit's
poses), ``base_link -> imu_link -> velo_link -> <camera optical frames>`` on ``/tf_static``
(offered transient local, so a late rviz2 still gets the rig), with ``base_link`` placed
where kitti2bag places it relative to the OXTS unit.
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
from pathlib import Path

from mtl_perception.formats.kitti_oxts import imu_poses, OxtsRecord, read_oxts
from mtl_perception.formats.kitti_rig import BASE_TO_IMU_TRANSLATION, read_rig, rigid
from mtl_perception.formats.kitti_velodyne import read_scan, read_velodyne_stream, VelodyneStream
from mtl_perception.tools.kitti_bag_messages import (
    header, imu_message, navsat_message, pointcloud_message, tf_message, transform_stamped,
    TYPESTORE, velocity_message
)
import numpy as np
from rosbags.interfaces import (Qos, QosDurability, QosHistory, QosLiveliness, QosReliability,
                                QosTime)
from rosbags.rosbag2 import Writer
from tqdm import tqdm

LOGGER = logging.getLogger(__name__)
TOPICS = {'velodyne': '/kitti/velo/pointcloud', 'imu': '/kitti/oxts/imu',
          'fix': '/kitti/oxts/gps/fix', 'velocity': '/kitti/oxts/gps/vel',
          'tf': '/tf', 'tf_static': '/tf_static'}
WORLD, BASE, IMU, VELO = 'world', 'base_link', 'imu_link', 'velo_link'


def _latched() -> list[Qos]:
    never = QosTime(sec=0, nsec=0)
    return [Qos(QosHistory.KEEP_LAST, 1, QosReliability.RELIABLE, QosDurability.TRANSIENT_LOCAL,
                never, never, QosLiveliness.AUTOMATIC, never, False)]


@dataclass
class SensorWriter:
    """What of a drive besides its cameras goes into the bag, all read and checked up front."""

    static: list[tuple[str, str, np.ndarray]]
    velodyne: VelodyneStream | None
    oxts: tuple[list[int], list[OxtsRecord]] | None

    @classmethod
    def of_drive(cls, drive: Path, camera_frames: dict[int, str]) -> SensorWriter | None:
        """Read a drive's LiDAR and OXTS listings and its rig; None for a camera-only drive.

        Raises:
            KittiLayoutError: A present part is broken: truncated scan, timestamps of the
                wrong count, malformed OXTS record, missing or malformed calibration file.
        """
        velodyne = read_velodyne_stream(drive)
        oxts = read_oxts(drive) if (drive / 'oxts').is_dir() else None
        if velodyne is None:
            LOGGER.info('%s has no velodyne_points/: no LiDAR in the bag', drive.name)
        if oxts is None:
            LOGGER.info('%s has no oxts/: no IMU, GPS or /tf in the bag', drive.name)
        if velodyne is None and oxts is None:
            return None
        with_imu = oxts is not None or (drive.parent / 'calib_imu_to_velo.txt').is_file()
        rig = read_rig(drive.parent, tuple(camera_frames), with_imu=with_imu)
        static = [(VELO, camera_frames[camera], np.linalg.inv(transform))
                  for camera, transform in rig.camera_from_velo.items()]
        if rig.velo_from_imu is not None:
            static = [(BASE, IMU, rigid(np.eye(3), BASE_TO_IMU_TRANSLATION)),
                      (IMU, VELO, np.linalg.inv(rig.velo_from_imu)), *static]
        else:
            LOGGER.info('no calib_imu_to_velo.txt: the transforms start at %s', VELO)
        return cls(static, velodyne, oxts)

    def write(self, writer: Writer, first_stamp: int, counts: dict[str, int],
              progress: bool) -> None:
        """Write the rig once at ``first_stamp``, then the scans and the OXTS records."""
        static = writer.add_connection(TOPICS['tf_static'], 'tf2_msgs/msg/TFMessage',
                                       typestore=TYPESTORE, offered_qos_profiles=_latched())
        self._put(writer, static, first_stamp, tf_message(
            [transform_stamped(first_stamp, parent, child, pose)
             for parent, child, pose in self.static]), counts)
        if self.velodyne is not None:
            self._write_scans(writer, counts, progress)
        if self.oxts is not None:
            self._write_oxts(writer, counts)

    def _write_scans(self, writer: Writer, counts: dict[str, int], progress: bool) -> None:
        connection = writer.add_connection(TOPICS['velodyne'], 'sensor_msgs/msg/PointCloud2',
                                           typestore=TYPESTORE)
        scans = list(zip(self.velodyne.scans, self.velodyne.stamps))
        for path, stamp in tqdm(scans, unit='scan', desc='velodyne', disable=not progress):
            self._put(writer, connection, stamp,
                      pointcloud_message(read_scan(path), header(stamp, VELO)), counts)

    def _write_oxts(self, writer: Writer, counts: dict[str, int]) -> None:
        kinds = {'imu': 'sensor_msgs/msg/Imu', 'fix': 'sensor_msgs/msg/NavSatFix',
                 'velocity': 'geometry_msgs/msg/TwistStamped', 'tf': 'tf2_msgs/msg/TFMessage'}
        connections = {kind: writer.add_connection(TOPICS[kind], msgtype, typestore=TYPESTORE)
                       for kind, msgtype in kinds.items()}
        stamps, records = self.oxts
        imu_from_base = np.linalg.inv(rigid(np.eye(3), BASE_TO_IMU_TRANSLATION))
        for stamp, record, pose in zip(stamps, records, imu_poses(records)):
            at_imu = header(stamp, IMU)
            messages = {'imu': imu_message(record, at_imu), 'fix': navsat_message(record, at_imu),
                        'velocity': velocity_message(record, at_imu),
                        'tf': tf_message([transform_stamped(stamp, WORLD, BASE,
                                                            pose @ imu_from_base)])}
            for kind, message in messages.items():
                self._put(writer, connections[kind], stamp, message, counts)

    @staticmethod
    def _put(writer: Writer, connection: object, stamp: int, message: object,
             counts: dict[str, int]) -> None:
        writer.write(connection, stamp, TYPESTORE.serialize_cdr(message, message.__msgtype__))
        counts[connection.topic] = counts.get(connection.topic, 0) + 1
