# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Write a synthetic drive in the KITTI raw layout (plus depth-benchmark ground truth).

This is how the embedded default reaches the KITTI tools: the demo and the tests render a
drive here and convert it with ``mtl_kitti_to_bag`` exactly as a user converts a real one.
With ``sensors`` the drive is complete as a real one is: a simulated 64-beam LiDAR
(:mod:`.lidar`) in ``velodyne_points``, OXTS records of the car in ``oxts`` and the rig's
``calib_imu_to_velo.txt`` and ``calib_velo_to_cam.txt`` (:mod:`.rig`).
"""

from __future__ import annotations

import datetime
from pathlib import Path

import cv2
from mtl_perception.formats.kitti_velodyne import write_scan
from mtl_perception.synthetic import (
    drive_poses, drive_scene, FRAME_RATE_HZ, kitti_like_intrinsics, render_drive
)
from mtl_perception.synthetic.lidar import simulate_scan
from mtl_perception.synthetic.rig import oxts_records, SyntheticRig
import numpy as np
from tqdm import tqdm

STEREO_BASELINE_M = 0.54
START = datetime.datetime(2011, 9, 26, 13, 2, 25, tzinfo=datetime.timezone.utc)


def _stamp_line(seconds: float) -> str:
    moment = START + datetime.timedelta(seconds=seconds)
    nanoseconds = round((seconds % 1) * 1e9) % 10**9
    return moment.strftime('%Y-%m-%d %H:%M:%S') + f'.{nanoseconds:09d}'


def _calibration_text(width: int, height: int) -> str:
    intrinsics = kitti_like_intrinsics(width, height)
    k = intrinsics.matrix
    lines = ['calib_time: 09-Jan-2012 13:57:47', 'corner_dist: 9.950000e-02']
    # the gray cameras 0 and 1 share the colour cameras' places in the synthetic rig
    for camera, offset in ((0, 0.0), (1, STEREO_BASELINE_M), (2, 0.0), (3, STEREO_BASELINE_M)):
        p = np.hstack([k, [[-k[0, 0] * offset], [0.0], [0.0]]])
        suffix = f'_{camera:02d}'
        lines += [f'S{suffix}: {width:e} {height:e}',
                  f'K{suffix}: ' + ' '.join(f'{v:e}' for v in k.ravel()),
                  f'D{suffix}: ' + ' '.join(['0.000000e+00'] * 5),
                  f'S_rect{suffix}: {width:e} {height:e}',
                  f'R_rect{suffix}: ' + ' '.join(f'{v:e}' for v in np.eye(3).ravel()),
                  f'P_rect{suffix}: ' + ' '.join(f'{v:e}' for v in p.ravel())]
    return '\n'.join(lines) + '\n'


def _rigid_text(transform: np.ndarray) -> str:
    return ('calib_time: 15-Mar-2012 11:37:16\n'
            'R: ' + ' '.join(f'{v:.12e}' for v in transform[:3, :3].ravel()) + '\n'
            'T: ' + ' '.join(f'{v:.12e}' for v in transform[:3, 3]) + '\n')


def _write_sensors(drive: Path, seed: int, frames: int, stamps: list[str],
                   progress: bool) -> None:
    """Write the LiDAR scans, the OXTS records and the rig's calibration of the drive."""
    poses = drive_poses(seed, frames)
    rig = SyntheticRig.of(poses[0])
    (drive.parent / 'calib_imu_to_velo.txt').write_text(
        _rigid_text(np.linalg.inv(rig.imu_from_lidar)))
    (drive.parent / 'calib_velo_to_cam.txt').write_text(_rigid_text(rig.camera_from_lidar))
    scene = drive_scene(seed, frames)
    scans = drive / 'velodyne_points' / 'data'
    scans.mkdir(parents=True, exist_ok=True)
    for index, pose in enumerate(tqdm(poses, unit='scan', desc='simulating the LiDAR',
                                      disable=not progress)):
        scan = simulate_scan(scene, rig.world_from_lidar(pose), seed=seed * 100003 + index)
        write_scan(scans / f'{index:010d}.bin', scan.points)
    records = drive / 'oxts' / 'data'
    records.mkdir(parents=True, exist_ok=True)
    for index, record in enumerate(oxts_records(poses, FRAME_RATE_HZ)):
        (records / f'{index:010d}.txt').write_text(record.line() + '\n')
    for sensor in ('velodyne_points', 'oxts'):
        (drive / sensor / 'timestamps.txt').write_text('\n'.join(stamps) + '\n')


def write_kitti_drive(root: str | Path, *, seed: int, frames: int, width: int = 640,
                      height: int = 192, drive_number: int = 1, with_depth: bool = True,
                      cameras: tuple[int, ...] = (2, 3), sensors: bool = True,
                      progress: bool = True) -> Path:
    """Render ``frames`` stereo frames of one synthetic street into KITTI's raw layout.

    Writes ``root/2011_09_26/calib_cam_to_cam.txt``, the drive's ``image_02`` and
    ``image_03`` (those in ``cameras``, also 0 and 1: the gray cameras, which share the
    colour cameras' places here; PNG + ``timestamps.txt`` at 10 Hz) and, with
    ``with_depth``, the left
    camera's ground truth as ``root/depth/train/<drive>/proj_depth/groundtruth/image_02``
    (uint16 metres x 256, 0 = none) like the depth benchmark. With ``sensors``, also the
    LiDAR scans, OXTS records and rig calibration (about 0.7 s per frame more).

    Returns:
        The drive folder.
    """
    root = Path(root)
    date = START.strftime('%Y_%m_%d')
    drive = root / date / f'{date}_drive_{drive_number:04d}_sync'
    (root / date).mkdir(parents=True, exist_ok=True)
    (root / date / 'calib_cam_to_cam.txt').write_text(_calibration_text(width, height))
    depth_dir = root / 'depth' / 'train' / drive.name / 'proj_depth' / 'groundtruth' / 'image_02'
    places = {0: 0.0, 1: STEREO_BASELINE_M, 2: 0.0, 3: STEREO_BASELINE_M}
    for camera, offset in places.items():
        if camera not in cameras:
            continue
        data = drive / f'image_{camera:02d}' / 'data'
        data.mkdir(parents=True, exist_ok=True)
        stamps = []
        drive_frames = render_drive(seed, frames, width=width, height=height,
                                    camera_offset=offset)
        for index, frame in enumerate(tqdm(drive_frames, total=frames, unit='frame',
                                           desc=f'rendering image_{camera:02d}',
                                           disable=not progress)):
            pixels = (frame.rgb[:, :, ::-1] if camera >= 2
                      else cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2GRAY))
            cv2.imwrite(str(data / f'{index:010d}.png'), pixels)
            stamps.append(_stamp_line(index / FRAME_RATE_HZ))
            if with_depth and camera == 2:
                depth_dir.mkdir(parents=True, exist_ok=True)
                encoded = np.nan_to_num(frame.depth * 256.0, nan=0.0).round()
                cv2.imwrite(str(depth_dir / f'{index:010d}.png'), encoded.astype(np.uint16))
        (drive / f'image_{camera:02d}' / 'timestamps.txt').write_text('\n'.join(stamps) + '\n')
    if sensors:
        _write_sensors(drive, seed, frames, [_stamp_line(index / FRAME_RATE_HZ)
                                             for index in range(frames)], progress)
    return drive
