# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The intrinsics of the images a ``sensor_msgs/CameraInfo`` describes, read without ROS.

Rectified images (``image_rect``, what the network should see) are projected by ``P``; the raw
camera by ``K`` and its distortion ``D``. Intrinsics are therefore read from ``P`` when it is
set and from ``K`` otherwise, as image_geometry and depth_image_proc do.

A CameraInfo's ``K`` and ``P`` belong to the full-resolution sensor (its ``width x height``).
The images on the wire may be a region of interest (``roi``, a crop) of it, then binned
(``binning_x/y``): image_geometry's "reduced" camera. A crop shifts the principal point and
keeps the focal lengths; binning divides both. Treating a crop as a resize would scale the
focal lengths and put every point of the cloud at the wrong bearing.
"""

from __future__ import annotations

from typing import Any

from mtl_perception.errors import ConversionError, GeometryError
from mtl_perception.geometry import Intrinsics
import numpy as np


def delivered_size(info: Any) -> tuple[int, int]:
    """Return ``(width, height)`` of the images ``info`` describes: ROI, then binning.

    Raises:
        ConversionError: Zero size, or a region of interest outside the sensor.
    """
    width, height = int(info.width), int(info.height)
    if width == 0 or height == 0:
        raise ConversionError(
            f'camera_info has zero image size: width={width}, height={height}')
    roi = info.roi
    if roi.width and roi.height:
        if roi.x_offset + roi.width > width or roi.y_offset + roi.height > height:
            raise ConversionError(
                f'camera_info roi {roi.width}x{roi.height} at ({roi.x_offset}, '
                f'{roi.y_offset}) lies outside its {width}x{height} image')
        width, height = int(roi.width), int(roi.height)
    return width // _binning(info.binning_x), height // _binning(info.binning_y)


def delivered_matrix(matrix: np.ndarray, info: Any) -> np.ndarray:
    """Map a 3x3 ``K`` or 3x4 ``P`` of the sensor to the delivered images (crop, binning)."""
    matrix = np.array(matrix, dtype=float)
    roi = info.roi
    if roi.width and roi.height:
        matrix[0] -= roi.x_offset * matrix[2]
        matrix[1] -= roi.y_offset * matrix[2]
    matrix[0] /= _binning(info.binning_x)
    matrix[1] /= _binning(info.binning_y)
    return matrix


def has_projection(info: Any) -> bool:
    """Whether ``P`` is set (focal lengths non-zero): the camera has been calibrated."""
    p = np.asarray(info.p, dtype=float)
    return p.size == 12 and bool(p[0] > 0 and p[5] > 0)


def has_distortion(info: Any) -> bool:
    """Whether ``D`` holds any non-zero coefficient (the raw image is distorted)."""
    return bool(np.any(np.asarray(info.d, dtype=float) != 0))


def camera_info_intrinsics(info: Any) -> Intrinsics:
    """Read the pinhole intrinsics of the rectified images a CameraInfo describes.

    From ``P`` when it is set, else from ``K`` (an uncalibrated-P CameraInfo, e.g. from a
    simulator); region of interest and binning applied.

    Raises:
        ConversionError: Zero image size, a ROI outside the sensor, or a degenerate matrix
            (e.g. all zeros, uncalibrated).
    """
    width, height = delivered_size(info)
    if has_projection(info):
        name, matrix = 'P', np.reshape(np.asarray(info.p, dtype=float), (3, 4))[:, :3]
    else:
        name, matrix = 'K', np.reshape(np.asarray(info.k, dtype=float), (3, 3))
    try:
        return Intrinsics.from_matrix(delivered_matrix(matrix, info), width, height)
    except GeometryError as error:
        raise ConversionError(f'camera_info {name} is unusable: {error}') from None


def output_projection(intrinsics: Intrinsics, info: Any) -> list[float]:
    """``P`` (row-major 3x4) of an output image with ``intrinsics``, derived from ``info``'s.

    The source's ``P`` is taken to its delivered images (crop, binning), then resized to the
    output's size like the intrinsics themselves (pixel centres kept aligned).
    """
    p = delivered_matrix(np.reshape(np.asarray(info.p, dtype=float), (3, 4)), info)
    width, height = delivered_size(info)
    sx, sy = intrinsics.width / width, intrinsics.height / height
    p[0] = p[0] * sx + 0.5 * (sx - 1.0) * p[2]
    p[1] = p[1] * sy + 0.5 * (sy - 1.0) * p[2]
    return [float(value) for value in p.reshape(-1)]


def _binning(value: int) -> int:
    """Binning factor: 0 and 1 both mean none (sensor_msgs/CameraInfo)."""
    return max(int(value), 1)
