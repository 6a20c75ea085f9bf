# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The camera model: one rule from a ``sensor_msgs/CameraInfo`` and a frame size to intrinsics.

Everything that back-projects pixels (the node, ``mtl_process_bag``, distillation's LiDAR and
ground anchors, the map) takes a frame's intrinsics from :func:`frame_intrinsics`, as every
image_pipeline node takes them from image_geometry's camera model, so that the same
CameraInfo and frame size give the same intrinsics through every tool. The rule:

- Rectified images (``image_rect``, what the network should see) are projected by ``P``; the
  raw camera by ``K`` and its distortion ``D``: intrinsics from ``P`` when it is set, from
  ``K`` otherwise, as image_geometry and depth_image_proc do.
- ``K`` and ``P`` belong to the full-resolution sensor (its ``width x height``). The images
  on the wire may be a region of interest (``roi``, a crop) of it, then binned
  (``binning_x/y``): image_geometry's "reduced" camera. A crop shifts the principal point
  and keeps the focal lengths; binning divides both. Treating a crop as a resize would put
  every point of the cloud at the wrong bearing.
- A frame of another size with the same aspect ratio is a resized stream (image_proc's
  resize): the intrinsics are rescaled with pixel centres kept aligned. Another aspect ratio
  belongs to another stream and is refused.
- Intrinsics that describe no real camera of their image size (the principal point outside
  the image, focal lengths beyond 0.02..200 times the image side) are refused.

Reads any object with CameraInfo's fields (rclpy's message in the node, rosbags' in the bag
tools); imports no ROS.
"""

from __future__ import annotations

from typing import Any

from mtl_perception.errors import ConversionError, GeometryError
from mtl_perception.geometry import Intrinsics
import numpy as np

_ASPECT_TOLERANCE = 0.01
#: Focal lengths in pixels, as multiples of the image side: from beyond-fisheye to telescope.
_FOCAL_RANGE = (0.02, 200.0)


def check_plausible(intrinsics: Intrinsics, source: str) -> None:
    """Refuse intrinsics that describe no real camera of their image size.

    The principal point must lie inside the image and each focal length within
    ``_FOCAL_RANGE`` times its image side; otherwise every point of the cloud would be
    meaningless (cx = 1e30, fx = 1e-30 have been seen on the wire).

    Raises:
        ConversionError: Names ``source`` and the values.
    """
    k = intrinsics
    inside = 0.0 <= k.cx <= k.width and 0.0 <= k.cy <= k.height
    low, high = _FOCAL_RANGE
    focal = low <= k.fx / k.width <= high and low <= k.fy / k.height <= high
    if not (inside and focal):
        raise ConversionError(
            f'{source} is implausible for {k.width}x{k.height} images: fx={k.fx:g}, '
            f'fy={k.fy:g}, cx={k.cx:g}, cy={k.cy:g} (the principal point must lie inside the '
            f'image, focal lengths within {low:g}..{high:g} times the image side)')


def frame_intrinsics(info: Any | None, fallback: tuple[float, ...], width: int,
                     height: int) -> Intrinsics | None:
    """Intrinsics for a ``width x height`` image, or ``None`` when nothing describes it.

    A CameraInfo's region of interest and binning are applied first (a crop shifts the
    principal point). A CameraInfo for a resized stream (same aspect ratio, other size) is
    then rescaled, as image_proc's resize does; one of another aspect ratio belongs to
    another stream.

    Args:
        info: Latest CameraInfo of the image's frame, if any.
        fallback: ``(fx, fy, cx, cy)`` of the image as received, or empty / ``(0.0,)``.
        width: Image width.
        height: Image height.

    Raises:
        ConversionError: Degenerate CameraInfo (zero size, all-zero K), a size of another
            aspect ratio, or a malformed fallback.
    """
    if info is not None:
        intrinsics = camera_info_intrinsics(info)
        check_plausible(intrinsics, 'camera_info')
        if (intrinsics.width, intrinsics.height) == (width, height):
            return intrinsics
        if abs(intrinsics.width / intrinsics.height - width / height) > (
                _ASPECT_TOLERANCE * width / height):
            raise ConversionError(
                f'camera_info is for {intrinsics.width}x{intrinsics.height} images but the '
                f'image is {width}x{height} (another aspect ratio); publish the CameraInfo '
                'that belongs to this image stream')
        return intrinsics.scaled(width, height)
    if len(fallback) == 4 and any(fallback):
        try:
            intrinsics = Intrinsics(*fallback, width, height)
        except GeometryError as error:
            raise ConversionError(f'fallback_intrinsics are unusable: {error}') from None
        check_plausible(intrinsics, 'fallback_intrinsics')
        return intrinsics
    if any(fallback):
        raise ConversionError(
            f'fallback_intrinsics must be [fx, fy, cx, cy], got {list(fallback)}')
    return None


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


def is_reduced(info: Any) -> bool:
    """Whether the images are a region of interest or binned (image_geometry's "reduced")."""
    return bool((info.roi.width and info.roi.height) or max(info.binning_x, info.binning_y) > 1)


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
