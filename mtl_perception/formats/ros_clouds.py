# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``sensor_msgs/PointCloud2`` fields decoded without ROS (rclpy's or rosbags' messages alike)."""

from __future__ import annotations

from typing import Any

from mtl_perception.errors import ConversionError
import numpy as np

#: ``sensor_msgs/PointField`` datatype constants (INT8 = 1 ... FLOAT64 = 8) as numpy types.
POINT_FIELD_DTYPES = {1: np.int8, 2: np.uint8, 3: np.int16, 4: np.uint16, 5: np.int32,
                      6: np.uint32, 7: np.float32, 8: np.float64}


def pointcloud2_to_array(msg: Any) -> np.ndarray:
    """Decode a PointCloud2 into an ``(height, width)`` structured array view of its fields.

    Raises:
        ConversionError: Unknown field datatype, or data shorter than ``height * row_step``.
    """
    try:
        dtype = np.dtype({
            'names': [field.name for field in msg.fields],
            'formats': [np.dtype(POINT_FIELD_DTYPES[field.datatype]).newbyteorder(
                '>' if msg.is_bigendian else '<') for field in msg.fields],
            'offsets': [field.offset for field in msg.fields],
            'itemsize': msg.point_step,
        })
    except KeyError as error:
        raise ConversionError(f'PointCloud2 field has unknown datatype {error}') from None
    buffer = np.frombuffer(msg.data, dtype=np.uint8)
    needed = msg.height * msg.row_step
    if buffer.size < needed:
        raise ConversionError(
            f'PointCloud2 data holds {buffer.size} bytes, fewer than height * row_step = '
            f'{needed}')
    rows = buffer[:needed].reshape(msg.height, msg.row_step)[:, :msg.width * msg.point_step]
    return rows.view(dtype).reshape(msg.height, msg.width)
