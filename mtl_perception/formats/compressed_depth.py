# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""compressed_depth_image_transport's ``compressedDepth`` PNG format, without ROS.

A 32-bit depth image travels as a 12-byte header (int32 format 0 = inverse depth, float32
``A``, float32 ``B``; little-endian, as the C++ struct is laid out on the machines ROS runs on)
followed by a 16-bit PNG of the quantised inverse depth ``q = A / depth + B`` with
``A = z0 * (z0 + 1)`` and ``B = 1 - A / depth_max``; ``q = 0`` means no depth. Decoding is
``depth = A / (q - B)``. The quantisation step grows with the square of the depth
(``depth**2 / A``): about 0.6 m at 80 m and 1 cm at 10 m with ``z0 = 100``.

What the format cannot carry: REP 117's markers. +Inf (too far), -Inf (too near) and NaN
(no depth) all become "no depth" (NaN after decoding).
"""

from __future__ import annotations

import struct

import cv2
from mtl_perception.errors import ConversionError
import numpy as np

HEADER = struct.Struct('<iff')
INVERSE_DEPTH = 0
DEFAULT_QUANTIZATION = 100.0  # compressed_depth_image_transport's depth_quantization
PNG_LEVEL = 1  # fastest: this runs for every frame somebody watches


def encode_compressed_depth(depth: np.ndarray, depth_max: float,
                            quantization: float = DEFAULT_QUANTIZATION) -> bytes:
    """Encode float metres as ``compressedDepth`` PNG data (header + PNG)."""
    a = quantization * (quantization + 1.0)
    b = 1.0 - a / depth_max
    valid = np.isfinite(depth) & (depth > 0) & (depth <= depth_max)
    inverse = np.zeros(depth.shape, np.uint16)
    inverse[valid] = np.clip(a / depth[valid] + b, 0, 65535).astype(np.uint16)
    ok, png = cv2.imencode('.png', inverse, [cv2.IMWRITE_PNG_COMPRESSION, PNG_LEVEL])
    if not ok:
        raise ConversionError(f'PNG encoding of a {depth.shape} depth image failed')
    return HEADER.pack(INVERSE_DEPTH, np.float32(a), np.float32(b)) + png.tobytes()


def decode_compressed_depth(data: bytes) -> np.ndarray:
    """Decode ``compressedDepth`` PNG data to float32 metres (NaN where there is no depth).

    Raises:
        ConversionError: Too short, another compression format, or a PNG that is not 16-bit.
    """
    if len(data) <= HEADER.size:
        raise ConversionError(f'compressedDepth data of {len(data)} bytes holds no image')
    kind, a, b = HEADER.unpack_from(data)
    if kind != INVERSE_DEPTH:
        raise ConversionError(f'compressedDepth format {kind} is not inverse depth (0)')
    inverse = cv2.imdecode(np.frombuffer(data, np.uint8, offset=HEADER.size),
                           cv2.IMREAD_UNCHANGED)
    if inverse is None or inverse.dtype != np.uint16 or inverse.ndim != 2:
        raise ConversionError('compressedDepth data is not a 16-bit single-channel PNG')
    depth = np.full(inverse.shape, np.nan, np.float32)
    stored = inverse > 0
    depth[stored] = a / (inverse[stored].astype(np.float32) - b)
    return depth
