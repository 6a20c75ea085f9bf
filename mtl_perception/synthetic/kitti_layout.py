# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Write a synthetic drive in the KITTI raw layout (plus depth-benchmark ground truth).

This is how the embedded default reaches the KITTI tools: the demo and the tests render a
drive here and convert it with ``mtl_kitti_to_bag`` exactly as a user converts a real one.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import cv2
from mtl_perception.synthetic import FRAME_RATE_HZ, kitti_like_intrinsics, render_drive
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
    for camera, offset in ((2, 0.0), (3, STEREO_BASELINE_M)):
        p = np.hstack([k, [[-k[0, 0] * offset], [0.0], [0.0]]])
        suffix = f'_{camera:02d}'
        lines += [f'S{suffix}: {width:e} {height:e}',
                  f'K{suffix}: ' + ' '.join(f'{v:e}' for v in k.ravel()),
                  f'D{suffix}: ' + ' '.join(['0.000000e+00'] * 5),
                  f'S_rect{suffix}: {width:e} {height:e}',
                  f'R_rect{suffix}: ' + ' '.join(f'{v:e}' for v in np.eye(3).ravel()),
                  f'P_rect{suffix}: ' + ' '.join(f'{v:e}' for v in p.ravel())]
    return '\n'.join(lines) + '\n'


def write_kitti_drive(root: str | Path, *, seed: int, frames: int, width: int = 640,
                      height: int = 192, drive_number: int = 1, with_depth: bool = True,
                      cameras: tuple[int, ...] = (2, 3), progress: bool = True) -> Path:
    """Render ``frames`` stereo frames of one synthetic street into KITTI's raw layout.

    Writes ``root/2011_09_26/calib_cam_to_cam.txt``, the drive's ``image_02`` and
    ``image_03`` (those in ``cameras``; PNG + ``timestamps.txt`` at 10 Hz) and, with
    ``with_depth``, the left
    camera's ground truth as ``root/depth/train/<drive>/proj_depth/groundtruth/image_02``
    (uint16 metres x 256, 0 = none) like the depth benchmark.

    Returns:
        The drive folder.
    """
    root = Path(root)
    date = START.strftime('%Y_%m_%d')
    drive = root / date / f'{date}_drive_{drive_number:04d}_sync'
    (root / date).mkdir(parents=True, exist_ok=True)
    (root / date / 'calib_cam_to_cam.txt').write_text(_calibration_text(width, height))
    depth_dir = root / 'depth' / 'train' / drive.name / 'proj_depth' / 'groundtruth' / 'image_02'
    for camera, offset in ((2, 0.0), (3, STEREO_BASELINE_M)):
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
            cv2.imwrite(str(data / f'{index:010d}.png'), frame.rgb[:, :, ::-1])
            stamps.append(_stamp_line(index / FRAME_RATE_HZ))
            if with_depth and camera == 2:
                depth_dir.mkdir(parents=True, exist_ok=True)
                encoded = np.nan_to_num(frame.depth * 256.0, nan=0.0).round()
                cv2.imwrite(str(depth_dir / f'{index:010d}.png'), encoded.astype(np.uint16))
        (drive / f'image_{camera:02d}' / 'timestamps.txt').write_text('\n'.join(stamps) + '\n')
    return drive
