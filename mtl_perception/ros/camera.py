"""Which intrinsics a frame is back-projected with: its CameraInfo, else the fallback."""

from __future__ import annotations

from mtl_perception.errors import GeometryError
from mtl_perception.geometry import Intrinsics
from mtl_perception.ros.conversions import camera_info_to_intrinsics
from mtl_perception.ros.errors import ConversionError
from sensor_msgs.msg import CameraInfo

_ASPECT_TOLERANCE = 0.01


def frame_intrinsics(info: CameraInfo | None, fallback: tuple[float, ...], width: int,
                     height: int) -> Intrinsics | None:
    """Intrinsics for a ``width x height`` image, or ``None`` when nothing describes it.

    A CameraInfo for a resized stream (same aspect ratio, other size) is rescaled, as
    image_proc's resize does; one of another aspect ratio belongs to another stream.

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
        intrinsics = camera_info_to_intrinsics(info)
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
            return Intrinsics(*fallback, width, height)
        except GeometryError as error:
            raise ConversionError(f'fallback_intrinsics are unusable: {error}') from None
    if any(fallback):
        raise ConversionError(
            f'fallback_intrinsics must be [fx, fy, cx, cy], got {list(fallback)}')
    return None
