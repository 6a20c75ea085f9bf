# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The KITTI rig: IMU, Velodyne and cameras as rigid transforms, from a date's calibration.

::

    <root>/<date>/calib_imu_to_velo.txt    R: 9 values, T: 3 values (IMU -> Velodyne)
    <root>/<date>/calib_velo_to_cam.txt    R, T (Velodyne -> unrectified camera 0)
    <root>/<date>/calib_cam_to_cam.txt     R_rect_00, P_rect_0N (camera 0 -> rectified N)

``T_a_b`` maps points in frame ``b`` to frame ``a`` (4x4). A Velodyne point reaches the
rectified image of camera N exactly as in the KITTI devkit: ``P_rect_0N @ R_rect_00 @
T_cam0_velo @ x``. Camera N's rectified optical frame is therefore ``R_rect_00 @ T_cam0_velo``
moved by ``K^-1 P_rect_0N[:, 3]`` (the stereo baseline and the small offsets KITTI keeps in
``P``), so projecting with ``K = P_rect_0N[:, :3]`` from that frame gives the devkit's pixel.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mtl_perception.errors import KittiLayoutError
from mtl_perception.formats.kitti_raw import read_calibration, read_calibration_values
import numpy as np

#: base_link -> imu_link as kitti2bag sets it: the OXTS unit sits behind the rear axle.
BASE_TO_IMU_TRANSLATION = (-2.71 / 2.0 - 0.05, 0.32, 0.93)


def rigid(rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """Build a 4x4 transform from a 3x3 rotation and a translation."""
    transform = np.eye(4)
    transform[:3, :3] = rotation
    transform[:3, 3] = translation
    return transform


def read_rigid_calibration(path: Path) -> np.ndarray:
    """Read ``R`` and ``T`` of ``calib_imu_to_velo.txt`` or ``calib_velo_to_cam.txt`` as 4x4.

    Raises:
        KittiLayoutError: Missing file or entry, values of the wrong count, or an ``R`` that
            is not a rotation; the message names the file.
    """
    if not path.is_file():
        raise KittiLayoutError(f'calibration file {path} not found; expected it beside '
                               'calib_cam_to_cam.txt in the date folder')
    values = read_calibration_values(path)
    for key, count in (('R', 9), ('T', 3)):
        if len(values.get(key, ())) != count:
            raise KittiLayoutError(f'{path}: {key} needs {count} values, found '
                                   f'{len(values.get(key, ()))}')
    rotation = np.asarray(values['R']).reshape(3, 3)
    if not np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-4) or np.linalg.det(
            rotation) < 0:
        raise KittiLayoutError(f'{path}: R is not a rotation matrix')
    return rigid(rotation, np.asarray(values['T']))


def camera_from_camera0(calibration_path: Path, camera: int) -> np.ndarray:
    """Transform from unrectified camera 0 to camera ``camera``'s rectified optical frame."""
    reference = read_calibration(calibration_path, 0)
    target = read_calibration(calibration_path, camera)
    offset = np.linalg.solve(target.k, target.p[:, 3])
    return rigid(np.eye(3), offset) @ rigid(reference.r, np.zeros(3))


@dataclass(frozen=True)
class KittiRig:
    """Where each sensor of a drive sits.

    Attributes:
        velo_from_imu: ``T_velo_imu`` (``calib_imu_to_velo.txt``); None when absent.
        camera_from_velo: ``T_camN_velo`` per camera number, to the rectified optical frame.
    """

    velo_from_imu: np.ndarray | None
    camera_from_velo: dict[int, np.ndarray]


def read_rig(date_folder: Path, cameras: tuple[int, ...], *, with_imu: bool) -> KittiRig:
    """Read the calibration files that place ``cameras`` (and the IMU) against the Velodyne.

    Raises:
        KittiLayoutError: A needed calibration file is missing or malformed.
    """
    cam_to_cam = date_folder / 'calib_cam_to_cam.txt'
    camera0_from_velo = read_rigid_calibration(date_folder / 'calib_velo_to_cam.txt')
    velo_from_imu = (read_rigid_calibration(date_folder / 'calib_imu_to_velo.txt')
                     if with_imu else None)
    return KittiRig(velo_from_imu, {
        camera: camera_from_camera0(cam_to_cam, camera) @ camera0_from_velo
        for camera in cameras})
