# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""KITTI raw drives in their published layout: frames, timestamps and rectified calibration.

::

    <root>/<date>/calib_cam_to_cam.txt
    <root>/<date>/<date>_drive_<NNNN>_sync/image_0<C>/data/<index:010d>.png
    <root>/<date>/<date>_drive_<NNNN>_sync/image_0<C>/timestamps.txt

Cameras 2 and 3 are the left and right colour cameras. ``_sync`` images are rectified, so the
camera model is the rectified one: ``K = P_rect[:, :3]``, no distortion, ``R = R_rect``,
``P = P_rect`` (camera 3's ``P`` carries the stereo baseline in ``P[0, 3]``).
"""

from __future__ import annotations

from dataclasses import dataclass
import datetime
from pathlib import Path

from mtl_perception.errors import KittiLayoutError
import numpy as np


@dataclass(frozen=True)
class RectifiedCamera:
    """Rectified calibration of one KITTI camera.

    Attributes:
        width: Image width in pixels (``S_rect``).
        height: Image height in pixels.
        k: 3x3 camera matrix of the rectified images.
        r: 3x3 rectifying rotation (``R_rect``).
        p: 3x4 projection matrix (``P_rect``).
    """

    width: int
    height: int
    k: np.ndarray
    r: np.ndarray
    p: np.ndarray


def read_calibration_values(path: Path) -> dict[str, list[float]]:
    """Read a KITTI calibration file's ``KEY: numbers`` lines (others, e.g. dates, skipped)."""
    values: dict[str, list[float]] = {}
    for line in path.read_text().splitlines():
        key, _, rest = line.partition(':')
        try:
            values[key.strip()] = [float(v) for v in rest.split()]
        except ValueError:
            continue
    return values


def read_calibration(path: Path, camera: int) -> RectifiedCamera:
    """Parse ``calib_cam_to_cam.txt`` for camera ``camera`` (0-3).

    Raises:
        KittiLayoutError: Missing file or key, or values of the wrong count.
    """
    if not path.is_file():
        raise KittiLayoutError(f'calibration file {path} not found; expected '
                               '<root>/<date>/calib_cam_to_cam.txt next to the drive folder')
    values = read_calibration_values(path)
    suffix = f'_{camera:02d}'

    def entry(name: str, count: int) -> np.ndarray:
        key = name + suffix
        if key not in values:
            raise KittiLayoutError(f'{path}: no {key} entry')
        if len(values[key]) != count:
            raise KittiLayoutError(f'{path}: {key} has {len(values[key])} values, expected '
                                   f'{count}')
        return np.asarray(values[key], dtype=np.float64)

    size = entry('S_rect', 2)
    p = entry('P_rect', 12).reshape(3, 4)
    return RectifiedCamera(int(size[0]), int(size[1]), p[:, :3].copy(),
                           entry('R_rect', 9).reshape(3, 3), p)


def parse_timestamp(text: str) -> int:
    """Turn ``2011-09-26 13:02:25.964389445`` (UTC) into nanoseconds since the epoch."""
    date_part, _, fraction = text.strip().partition('.')
    moment = datetime.datetime.strptime(date_part, '%Y-%m-%d %H:%M:%S').replace(
        tzinfo=datetime.timezone.utc)
    return int(moment.timestamp()) * 10**9 + int(fraction.ljust(9, '0')[:9] or 0)


def read_stamps(path: Path, count: int, data: Path) -> list[int]:
    """Read a sensor's ``timestamps.txt``: one stamp (ns) per file of ``data``.

    Raises:
        KittiLayoutError: Missing file, a count other than ``count``, or a malformed line.
    """
    if not path.is_file():
        raise KittiLayoutError(f'{path} not found')
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    if len(lines) != count:
        raise KittiLayoutError(f'{path} lists {len(lines)} timestamps but {data} holds '
                               f'{count} files')
    try:
        return [parse_timestamp(line) for line in lines]
    except ValueError as error:
        raise KittiLayoutError(f'{path}: malformed timestamp: {error}') from None


@dataclass(frozen=True)
class CameraStream:
    """The frames of one camera of a drive, in order, with their stamps in nanoseconds."""

    camera: int
    images: list[Path]
    stamps: list[int]
    calibration: RectifiedCamera


def read_camera_stream(drive: Path, camera: int) -> CameraStream:
    """List a camera's frames and timestamps and check that they match.

    Raises:
        KittiLayoutError: Missing folder or timestamps, or frame and timestamp counts that
            differ; the message names the path.
    """
    folder = drive / f'image_{camera:02d}'
    data = folder / 'data'
    if not data.is_dir():
        raise KittiLayoutError(f'{data} not found; expected <date>_drive_<NNNN>_sync/'
                               f'image_{camera:02d}/data/*.png')
    images = sorted(data.glob('*.png'))
    if not images:
        raise KittiLayoutError(f'{data} holds no images')
    stamps = read_stamps(folder / 'timestamps.txt', len(images), data)
    calibration = read_calibration(drive.parent / 'calib_cam_to_cam.txt', camera)
    return CameraStream(camera, images, stamps, calibration)
