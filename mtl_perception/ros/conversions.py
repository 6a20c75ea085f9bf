# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""sensor_msgs Image, CameraInfo and PointCloud2 <-> numpy, without cv_bridge or sensor_msgs_py.

Camera pixels are decoded by :mod:`mtl_perception.formats.ros_images` (no ROS needed there).
Decoding returns views of the message buffer wherever the layout allows (no copy); encoding
fills ``array.array('B')`` buffers from memoryviews, the fast path of rclpy's setters.
"""

from __future__ import annotations

import array

from mtl_perception.camera_model import has_projection, output_projection
from mtl_perception.errors import ConversionError
from mtl_perception.formats.ros_images import encoding_layout
from mtl_perception.geometry import Intrinsics
import numpy as np
from sensor_msgs.msg import CameraInfo, Image, PointCloud2, PointField
from std_msgs.msg import Header


CLOUD_FIELDS = (
    ('x', PointField.FLOAT32, np.float32),
    ('y', PointField.FLOAT32, np.float32),
    ('z', PointField.FLOAT32, np.float32),
    ('rgb', PointField.FLOAT32, np.float32),
    ('label', PointField.UINT32, np.uint32),
)
CLOUD_DTYPE = np.dtype([(name, dtype) for name, _, dtype in CLOUD_FIELDS])
# Jazzy's and later rosidl setters copy sequence data (array.array('B', value)) unless field
# checks are on; with them on, and always in Humble (which has no switch), an array.array('B')
# is kept as it is. Messages built here carry large buffers, so they turn the checks on.
_KEEP_DATA = {'check_fields': True} if '_check_fields' in Image.__slots__ else {}


def _byte_buffer(values: np.ndarray) -> array.array:
    buffer = array.array('B')
    buffer.frombytes(memoryview(np.ascontiguousarray(values)).cast('B'))
    return buffer


def array_to_image(pixels: np.ndarray, encoding: str, header: Header) -> Image:
    """Encode ``HxW``/``HxWxC`` numpy as an Image with the given header (native byte order).

    Raises:
        ConversionError: Unknown encoding, or a dtype/shape that does not fit it.
    """
    layout = encoding_layout(encoding)
    expected_ndim = 2 if layout.channels == 1 else 3
    if (pixels.dtype != layout.dtype or pixels.ndim != expected_ndim
            or (layout.channels > 1 and pixels.shape[2] != layout.channels)):
        raise ConversionError(
            f'array of dtype {pixels.dtype} and shape {pixels.shape} does not fit encoding '
            f'{encoding!r} ({layout.channels} channel(s) of {layout.dtype})')
    return image_message(_byte_buffer(pixels), encoding, int(pixels.shape[0]),
                         int(pixels.shape[1]), header)


def image_message(data: array.array, encoding: str, height: int, width: int,
                  header: Header) -> Image:
    """Wrap ``data`` (native byte order, rows unpadded) as an Image without copying it.

    Raises:
        ConversionError: Unknown encoding, or ``data`` not ``height * width`` pixels long.
    """
    layout = encoding_layout(encoding)
    step = width * layout.channels * layout.dtype.itemsize
    if len(data) != height * step:
        raise ConversionError(f'{len(data)} bytes of data cannot be a {width}x{height} '
                              f'{encoding} image ({height * step} bytes)')
    msg = Image(**_KEEP_DATA)
    msg.header = header
    msg.height, msg.width = height, width
    msg.encoding = encoding
    msg.is_bigendian = int(np.little_endian is False)
    msg.step = step
    msg.data = data
    return msg


def intrinsics_to_camera_info(intrinsics: Intrinsics, header: Header,
                              source: CameraInfo | None = None) -> CameraInfo:
    """Build the CameraInfo that describes exactly an output image: rectified, at its size.

    The outputs are rectified images (the network saw rectified pixels: ``image_rect``, or a
    raw image the node rectified), so ``D`` is empty, ``R`` the identity and ``K`` equals the
    first three columns of ``P``: image_geometry and depth_image_proc then back-project the
    depth exactly as ``~/points`` does. A stereo camera's baseline term (``P``'s fourth
    column, from ``source``) is kept, scaled to the output; no ROI, no binning.
    """
    k = intrinsics
    msg = CameraInfo(header=header, width=k.width, height=k.height)
    msg.k = [k.fx, 0.0, k.cx, 0.0, k.fy, k.cy, 0.0, 0.0, 1.0]
    msg.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    tx = ty = 0.0
    if source is not None and has_projection(source):
        _, _, _, tx, _, _, _, ty, *_ = output_projection(intrinsics, source)
    msg.p = [k.fx, 0.0, k.cx, tx, 0.0, k.fy, k.cy, ty, 0.0, 0.0, 1.0, 0.0]
    msg.distortion_model = 'plumb_bob'
    msg.d = []
    return msg


def pack_rgb(colours: np.ndarray) -> np.ndarray:
    """Pack ``(..., 3)`` uint8 RGB into the float32 ``rgb`` field read by rviz2 (RGB8)."""
    colours = colours.astype(np.uint32)
    packed = (colours[..., 0] << 16) | (colours[..., 1] << 8) | colours[..., 2]
    return packed.view(np.float32)


def semantic_cloud_array(points: np.ndarray, colours: np.ndarray,
                         labels: np.ndarray) -> np.ndarray:
    """Assemble ``(H, W)`` structured points ``x, y, z, rgb, label`` from per-pixel arrays."""
    cloud = np.empty(points.shape[:2], dtype=CLOUD_DTYPE)
    cloud['x'] = points[..., 0]
    cloud['y'] = points[..., 1]
    cloud['z'] = points[..., 2]
    cloud['rgb'] = pack_rgb(colours)
    cloud['label'] = labels
    return cloud


def cloud_to_pointcloud2(cloud: np.ndarray, header: Header) -> PointCloud2:
    """Encode an ``(H, W)`` (organised) or ``(N,)`` structured array as PointCloud2.

    ``is_dense`` is true only when no point has a NaN coordinate.
    """
    if cloud.dtype != CLOUD_DTYPE:
        raise ConversionError(f'cloud dtype {cloud.dtype} is not {CLOUD_DTYPE}')
    organised = cloud.ndim == 2
    height = int(cloud.shape[0]) if organised else 1
    width = int(cloud.shape[1]) if organised else int(cloud.shape[0])
    return cloud_message(_byte_buffer(cloud), height, width, header,
                         is_dense=not bool(np.isnan(cloud['z']).any()))


def cloud_message(data: array.array, height: int, width: int, header: Header, *,
                  is_dense: bool) -> PointCloud2:
    """Wrap ``data``, points in the ``CLOUD_DTYPE`` layout, as a PointCloud2 without copying.

    Raises:
        ConversionError: If ``data`` is not ``height * width`` points long.
    """
    point_step = CLOUD_DTYPE.itemsize
    if len(data) != height * width * point_step:
        raise ConversionError(f'{len(data)} bytes of data cannot be {width}x{height} points '
                              f'of {point_step} bytes')
    msg = PointCloud2(**_KEEP_DATA)
    msg.header = header
    msg.height, msg.width = height, width
    msg.fields = [PointField(name=name, offset=CLOUD_DTYPE.fields[name][1], datatype=kind,
                             count=1) for name, kind, _ in CLOUD_FIELDS]
    msg.is_bigendian = not np.little_endian
    msg.point_step = point_step
    msg.row_step = point_step * width
    msg.is_dense = is_dense
    msg.data = data
    return msg
