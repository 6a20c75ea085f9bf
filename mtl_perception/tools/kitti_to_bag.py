# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``mtl_kitti_to_bag``: a KITTI raw drive (cameras, LiDAR, OXTS, rig) to a rosbag2.

Per camera: ``sensor_msgs/Image`` (rgb8, or mono8 for the gray cameras) on
``/kitti/camera_<color|gray>_<side>/image_raw`` and ``sensor_msgs/CameraInfo`` on
``.../camera_info``, stamped from ``timestamps.txt``, frame id
``kitti_camera_<color|gray>_<side>_optical_frame``; the depth benchmark's ground truth,
where present, as 32FC1 metres (NaN = no measurement) on ``.../depth/ground_truth``.
Where the drive has them: the Velodyne scans on ``/kitti/velo/pointcloud`` (``velo_link``),
OXTS as ``/kitti/oxts/imu``, ``/kitti/oxts/gps/fix`` and ``/kitti/oxts/gps/vel``
(``imu_link``), the rig on ``/tf_static`` (``base_link -> imu_link -> velo_link ->`` each
camera) and the drive on ``/tf`` (``world -> base_link``). Written with ``rosbags`` (no ROS
needed); names follow kitti2bag (docs/bags_and_demo.md compares them).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import cv2
from mtl_perception.cli import usage_error
from mtl_perception.errors import DatasetError, KittiLayoutError
from mtl_perception.formats.images import read_depth
from mtl_perception.formats.kitti_raw import CameraStream, read_camera_stream
from mtl_perception.safe_output import staged_folder
from mtl_perception.tools.kitti_bag_messages import header as stamped_header, TYPESTORE
from mtl_perception.tools.kitti_sensors import SensorWriter
import numpy as np
from rosbags.rosbag2 import StoragePlugin, Writer
from tqdm import tqdm

LOGGER = logging.getLogger(__name__)
CAMERA_NAMES = {0: 'gray_left', 1: 'gray_right', 2: 'color_left', 3: 'color_right'}
GRAY_OF = {2: 0, 3: 1}
BAG_VERSION = 8


def camera_topics(camera: int) -> dict[str, str]:
    """Topic names of one KITTI camera (0/1 = gray left/right, 2/3 = colour left/right)."""
    base = f'/kitti/camera_{CAMERA_NAMES[camera]}'
    return {'image': f'{base}/image_raw', 'camera_info': f'{base}/camera_info',
            'depth': f'{base}/depth/ground_truth'}


def optical_frame(camera: int) -> str:
    """Frame id of a KITTI camera's rectified optical frame."""
    return f'kitti_camera_{CAMERA_NAMES[camera]}_optical_frame'


def image_message(pixels: np.ndarray, encoding: str, header: object) -> object:
    """Build a rosbags ``sensor_msgs/Image`` of a contiguous ``HxW`` or ``HxWxC`` array."""
    pixels = np.ascontiguousarray(pixels)
    return TYPESTORE.types['sensor_msgs/msg/Image'](
        header=header, height=pixels.shape[0], width=pixels.shape[1], encoding=encoding,
        is_bigendian=0, step=pixels.strides[0], data=pixels.view(np.uint8).reshape(-1))


def camera_info_message(stream: CameraStream, header: object) -> object:
    """Build the rectified camera model as ``sensor_msgs/CameraInfo``."""
    types = TYPESTORE.types
    calibration = stream.calibration
    region = types['sensor_msgs/msg/RegionOfInterest']
    roi = region(x_offset=0, y_offset=0, height=0, width=0, do_rectify=False)
    return types['sensor_msgs/msg/CameraInfo'](
        header=header, height=calibration.height, width=calibration.width,
        distortion_model='plumb_bob', d=np.zeros(5), k=calibration.k.reshape(-1),
        # the images are KITTI's rectified ones: no rotation is left to apply (R = identity);
        # R_rect belongs to the unrectified raw camera
        r=np.eye(3).reshape(-1), p=calibration.p.reshape(-1), binning_x=0, binning_y=0,
        roi=roi)


def _depth_folder(drive: Path, depth_root: Path | None, camera: int) -> Path | None:
    relative = Path('proj_depth') / 'groundtruth' / f'image_{camera:02d}'
    candidates = [drive / relative]
    if depth_root is not None:
        candidates += [depth_root / split / drive.name / relative for split in ('train', 'val')]
    return next((c for c in candidates if c.is_dir()), None)


def convert(drive: Path, output: Path, *, cameras: tuple[int, ...] = (2,),
            storage: str = 'mcap', depth_root: Path | None = None, gray: bool = False,
            progress: bool = True) -> dict[str, int]:
    """Write the drive's cameras, LiDAR, OXTS and rig into a new bag at ``output``.

    ``gray`` adds the gray camera of each chosen side (0 beside 2, 1 beside 3). The LiDAR,
    OXTS and transforms are written when the drive has ``velodyne_points`` or ``oxts``; a
    part the drive lacks is skipped with one line. Everything is checked before the first
    message is written (calibration files, timestamps, scan lengths), and the bag is written
    beside ``output`` and renamed into place when complete: a failure (a broken image
    mid-drive) or a kill leaves no partial bag.

    Returns:
        Messages written per topic.

    Raises:
        KittiLayoutError: Broken drive layout, or an image whose size differs from the
            calibration's ``S_rect``.
        DatasetError: An unreadable image or depth file.
    """
    if output.exists():
        raise KittiLayoutError(f'output bag {output} already exists; choose a new path')
    cameras = cameras + tuple(GRAY_OF[camera] for camera in cameras if gray)
    streams = [read_camera_stream(drive, camera) for camera in cameras]
    sensors = SensorWriter.of_drive(drive, {camera: optical_frame(camera)
                                            for camera in cameras})
    counts: dict[str, int] = {}
    plugin = StoragePlugin.MCAP if storage == 'mcap' else StoragePlugin.SQLITE3
    with staged_folder(output) as staging, Writer(staging, version=BAG_VERSION,
                                                  storage_plugin=plugin) as writer:
        for stream in streams:
            _write_stream(writer, stream, _depth_folder(drive, depth_root, stream.camera),
                          counts, progress)
        if sensors is not None:
            sensors.write(writer, min(stream.stamps[0] for stream in streams), counts,
                          progress)
    return counts


def _write_stream(writer: Writer, stream: CameraStream, depth_folder: Path | None,
                  counts: dict[str, int], progress: bool) -> None:
    topics = camera_topics(stream.camera)
    image_type, info_type = 'sensor_msgs/msg/Image', 'sensor_msgs/msg/CameraInfo'
    connections = {
        'camera_info': writer.add_connection(topics['camera_info'], info_type,
                                             typestore=TYPESTORE),
        'image': writer.add_connection(topics['image'], image_type, typestore=TYPESTORE)}
    if depth_folder is not None:
        connections['depth'] = writer.add_connection(topics['depth'], image_type,
                                                     typestore=TYPESTORE)
    size = (stream.calibration.height, stream.calibration.width)
    colour = stream.camera in GRAY_OF
    for path, stamp in tqdm(list(zip(stream.images, stream.stamps)), unit='frame',
                            desc=f'image_{stream.camera:02d}', disable=not progress):
        pixels = cv2.imread(str(path), cv2.IMREAD_COLOR if colour else cv2.IMREAD_GRAYSCALE)
        if pixels is None:
            raise DatasetError(f'{path}: not a readable image')
        if pixels.shape[:2] != size:
            raise KittiLayoutError(f'{path} is {pixels.shape[1]}x{pixels.shape[0]} but the '
                                   f'calibration S_rect says {size[1]}x{size[0]}')
        header = stamped_header(stamp, optical_frame(stream.camera))
        image = (image_message(pixels[:, :, ::-1], 'rgb8', header) if colour
                 else image_message(pixels, 'mono8', header))
        messages = {'camera_info': camera_info_message(stream, header), 'image': image}
        depth_path = depth_folder / path.name if depth_folder is not None else None
        if depth_path is not None and depth_path.is_file():
            depth = read_depth(depth_path, 256.0)
            messages['depth'] = image_message(np.where(depth > 0, depth, np.nan).astype(
                np.float32), '32FC1', header)
        for kind, message in messages.items():
            writer.write(connections[kind], stamp, TYPESTORE.serialize_cdr(
                message, message.__msgtype__))
            counts[topics[kind]] = counts.get(topics[kind], 0) + 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='mtl_kitti_to_bag', description=(
            'Convert a KITTI raw drive (<root>/<date>/<date>_drive_NNNN_sync with '
            'image_0N/data/*.png, image_0N/timestamps.txt and <root>/<date>/'
            'calib_cam_to_cam.txt) into a rosbag2 of sensor_msgs/Image + CameraInfo, plus '
            'depth-benchmark ground truth as 32FC1 images where present. Drives with '
            'velodyne_points/ and oxts/ (and calib_velo_to_cam.txt, calib_imu_to_velo.txt) '
            'also give /kitti/velo/pointcloud, /kitti/oxts/imu, /kitti/oxts/gps/fix, '
            '/kitti/oxts/gps/vel, /tf_static and /tf (kitti2bag names). Play it with '
            '"ros2 bag play OUTPUT_BAG --clock" or mtl_bag_play.'))
    parser.add_argument('drive', type=Path, metavar='DRIVE_DIR',
                        help='the <date>_drive_NNNN_sync folder')
    parser.add_argument('output', type=Path, metavar='OUTPUT_BAG', help='bag folder to create')
    parser.add_argument('--storage', choices=('mcap', 'sqlite3'), default='mcap',
                        help='rosbag2 storage plugin (default: mcap)')
    parser.add_argument('--camera', choices=('2', '3', 'both'), default='2',
                        help='2 = left colour, 3 = right colour, or both (default: 2)')
    parser.add_argument('--gray', action='store_true',
                        help='also write the gray camera of each chosen side (image_00 beside '
                             '2, image_01 beside 3) as mono8')
    parser.add_argument('--depth-root', type=Path,
                        help='depth benchmark root holding train/ and val/ <drive>/proj_depth '
                             '(default: look inside the drive folder only)')
    parser.add_argument('--no-progress', action='store_true', help='no progress bars')
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``mtl_kitti_to_bag``; returns 0, or 2 on a broken layout."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    cameras = (2, 3) if args.camera == 'both' else (int(args.camera),)
    try:
        counts = convert(args.drive, args.output, cameras=cameras, storage=args.storage,
                         depth_root=args.depth_root, gray=args.gray,
                         progress=not args.no_progress)
    except DatasetError as error:
        return usage_error('mtl_kitti_to_bag', error)
    for topic, count in counts.items():
        LOGGER.info('%6d messages on %s', count, topic)
    LOGGER.info('wrote %s', args.output)
    return 0
