# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Which intrinsics a frame is back-projected with: its CameraInfo, else the fallback."""

from __future__ import annotations

from mtl_perception.errors import ConversionError, GeometryError
from mtl_perception.formats.camera_info import camera_info_intrinsics
from mtl_perception.geometry import Intrinsics
from sensor_msgs.msg import CameraInfo

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


def frame_intrinsics(info: CameraInfo | None, fallback: tuple[float, ...], width: int,
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
