# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Camera frames as they go wrong: damaged and hostile JPEG/PNG, and distorted raw frames."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np


def encode(rgb: np.ndarray, extension: str) -> bytes:
    """Encode an RGB frame as ``.jpg`` or ``.png`` with OpenCV (what image_transport uses)."""
    quality = [cv2.IMWRITE_JPEG_QUALITY, 95] if extension == '.jpg' else []
    ok, data = cv2.imencode(extension, np.ascontiguousarray(rgb[..., ::-1]), quality)
    assert ok
    return data.tobytes()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack('>I', len(body)) + kind + body + struct.pack('>I', zlib.crc32(kind + body))


def png_declaring(width: int, height: int) -> bytes:
    """Return a small, well-formed PNG whose IHDR declares ``width`` x ``height`` RGB."""
    header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b'\x00' * 4096)
    return (b'\x89PNG\r\n\x1a\n' + _chunk(b'IHDR', header) + _chunk(b'IDAT', rows)
            + _chunk(b'IEND', b''))


def jpeg_declaring(width: int, height: int) -> bytes:
    """Return a tiny JPEG whose start-of-frame marker declares ``width`` x ``height``."""
    data = bytearray(encode(np.zeros((8, 8, 3), np.uint8), '.jpg'))
    start = data.find(b'\xff\xc0')
    data[start + 5:start + 9] = struct.pack('>HH', height, width)
    return bytes(data)


def truncated_jpeg(data: bytes) -> bytes:
    """Cut a JPEG in the middle of its scan and end it with an EOI marker again."""
    return data[:len(data) // 2] + b'\xff\xd9'


def truncated_png(data: bytes) -> bytes:
    """Cut a PNG in the middle of its image data and end it with its IEND chunk again."""
    return data[:len(data) // 2] + _chunk(b'IEND', b'')


def with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    """Insert an APP1 Exif segment whose Orientation tag (0x0112) is ``orientation``."""
    entry = struct.pack('>HHIHH', 0x0112, 3, 1, orientation, 0)
    tiff = b'MM\x00\x2a' + struct.pack('>I', 8) + struct.pack('>H', 1) + entry + b'\x00' * 4
    body = b'Exif\x00\x00' + tiff
    return jpeg[:2] + b'\xff\xe1' + struct.pack('>H', len(body) + 2) + body + jpeg[2:]


def distort(rectified: np.ndarray, info) -> np.ndarray:
    """Render the raw (distorted) frame whose rectification by ``info`` is ``rectified``.

    Each raw pixel is undistorted with OpenCV's point API (``K``, ``D`` to ``P``) and takes
    the rectified frame's colour there (bilinear).
    """
    height, width = rectified.shape[:2]
    raw = np.stack(np.meshgrid(np.arange(width), np.arange(height)), axis=-1).astype(np.float64)
    k = np.array(info.k).reshape(3, 3)
    p = np.array(info.p).reshape(3, 4)[:, :3]
    ideal = cv2.undistortPoints(raw.reshape(-1, 1, 2), k, np.array(info.d), None, p)
    maps = ideal.reshape(height, width, 2).astype(np.float32)
    return cv2.remap(rectified, maps[..., 0], maps[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)
