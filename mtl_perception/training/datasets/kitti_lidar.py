# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""A KITTI raw drive scored against its own Velodyne: sparse depth from the scans.

::

    <root>/<date>/<date>_drive_<NNNN>_sync/image_0<C>/data/*.png
    <root>/<date>/<date>_drive_<NNNN>_sync/velodyne_points/data/*.bin
    <root>/<date>/calib_cam_to_cam.txt, calib_velo_to_cam.txt

Each frame takes the scan nearest in time (at most 50 ms apart; ``_sync`` drives pair them
one to one), projected as the devkit projects it (:mod:`mtl_perception.formats.kitti_rig`),
nearest return per pixel. Unlike the depth benchmark's ground truth this is one scan, not
eleven accumulated ones, and it is not cleaned of the points that the camera cannot see
from its slightly different viewpoint (about 0.3 m from the LiDAR).
"""

from __future__ import annotations

from pathlib import Path

from mtl_perception.errors import DatasetError
from mtl_perception.formats.images import read_rgb
from mtl_perception.formats.kitti_raw import read_camera_stream
from mtl_perception.formats.kitti_rig import read_rig
from mtl_perception.formats.kitti_velodyne import read_scan, read_velodyne_stream
from mtl_perception.geometry import Intrinsics
from mtl_perception.lidar_projection import project_nearest, transform_points
from mtl_perception.training.datasets.sample import make_sample, Sample
import numpy as np
from torch.utils.data import Dataset

PAIRING_WINDOW_NS = 50_000_000


class KittiLidarDepthDataset(Dataset):
    """Depth-only samples of one drive: the camera's frames with the LiDAR projected in.

    Raises:
        DatasetError: The drive lacks the camera, the scans or a calibration file, or no
            frame has a scan within 50 ms.
    """

    def __init__(self, drive: str | Path, *, camera: int = 2,
                 max_depth: float = 80.0) -> None:
        drive = Path(drive)
        stream = read_camera_stream(drive, camera)
        scans = read_velodyne_stream(drive)
        if scans is None:
            raise DatasetError(f'{drive} has no velodyne_points/: nothing to score depth against')
        self.camera_from_velo = read_rig(drive.parent, (camera,),
                                         with_imu=False).camera_from_velo[camera]
        calibration = stream.calibration
        self.intrinsics = Intrinsics.from_matrix(calibration.k, calibration.width,
                                                 calibration.height)
        self.max_depth = max_depth
        self.pairs: list[tuple[Path, Path]] = []
        scan_stamps = np.array(scans.stamps, dtype=np.int64)
        for image, stamp in zip(stream.images, stream.stamps):
            nearest = int(np.argmin(np.abs(scan_stamps - stamp)))
            if abs(int(scan_stamps[nearest]) - stamp) <= PAIRING_WINDOW_NS:
                self.pairs.append((image, scans.scans[nearest]))
        if not self.pairs:
            raise DatasetError(f'{drive}: no frame of image_{camera:02d} has a Velodyne scan '
                               'within 50 ms')

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> Sample:
        image_path, scan_path = self.pairs[index]
        rgb = read_rgb(image_path)
        if rgb.shape[:2] != (self.intrinsics.height, self.intrinsics.width):
            raise DatasetError(f'{image_path} is {rgb.shape[1]}x{rgb.shape[0]} but the '
                               f'calibration says {self.intrinsics.width}x'
                               f'{self.intrinsics.height}')
        points = transform_points(read_scan(scan_path)[:, :3].astype(np.float64),
                                  self.camera_from_velo)
        depth = project_nearest(points, self.intrinsics, (1e-3, self.max_depth))
        return make_sample(rgb, None, depth)
