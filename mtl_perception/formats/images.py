# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Reading and writing dataset image files with errors that name the file at fault."""

from __future__ import annotations

from pathlib import Path

import cv2
from mtl_perception.errors import DatasetError
from mtl_perception.safe_output import write_atomically
import numpy as np

#: KITTI's depth PNGs: uint16 metres x 256, 0 = no measurement.
KITTI_DEPTH_SCALE = 256.0


def read_rgb(path: Path) -> np.ndarray:
    """Read a colour image as ``HxWx3`` uint8 RGB."""
    image = _read(path, cv2.IMREAD_COLOR)
    return np.ascontiguousarray(image[:, :, ::-1])


def read_mask(path: Path) -> np.ndarray:
    """Read a single-channel 8-bit image (class ids) as ``HxW`` uint8."""
    image = _read(path, cv2.IMREAD_UNCHANGED)
    if image.ndim != 2 or image.dtype != np.uint8:
        raise DatasetError(f'{path}: expected a single-channel 8-bit PNG of class ids, '
                           f'got shape {image.shape} dtype {image.dtype}')
    return image


def read_depth(path: Path, scale: float) -> np.ndarray:
    """Read a uint16 depth PNG as float32 metres (``value / scale``; 0 stays invalid)."""
    image = _read(path, cv2.IMREAD_UNCHANGED)
    if image.ndim != 2 or image.dtype != np.uint16:
        raise DatasetError(f'{path}: expected a single-channel 16-bit depth PNG, '
                           f'got shape {image.shape} dtype {image.dtype}')
    return image.astype(np.float32) / scale


def read_normals(path: Path) -> np.ndarray:
    """Read a normals PNG (RGB = ``(n + 1) / 2 * 255``) as ``HxWx3`` float32 unit vectors.

    Black pixels (0, 0, 0) are invalid and come back as zero vectors.
    """
    rgb = read_rgb(path).astype(np.float32)
    normals = rgb / 127.5 - 1.0
    length = np.linalg.norm(normals, axis=2, keepdims=True)
    valid = rgb.any(axis=2, keepdims=True) & (length > 0.5)
    return np.where(valid, normals / np.maximum(length, 1e-6), 0.0).astype(np.float32)


def write_png(path: Path, image: np.ndarray) -> None:
    """Write ``image`` (RGB, or one channel of uint8/uint16) as PNG, complete or not at all.

    Raises:
        DatasetError: If the image cannot be encoded as PNG.
        OSError: If the file cannot be written (nothing is left at ``path`` then).
    """
    pixels = image[:, :, ::-1] if image.ndim == 3 else image
    ok, encoded = cv2.imencode('.png', np.ascontiguousarray(pixels))
    if not ok:
        raise DatasetError(f'{path}: PNG encoding failed for shape {image.shape}')
    write_atomically(path, lambda stream: stream.write(encoded.tobytes()))


def depth_to_png(depth: np.ndarray, scale: float) -> np.ndarray:
    """Encode metres as uint16 ``round(depth * scale)``; NaN, inf and out-of-range become 0."""
    scaled = np.nan_to_num(depth.astype(np.float64) * scale, nan=0.0, posinf=0.0, neginf=0.0)
    scaled[(scaled < 0) | (scaled > 65535)] = 0
    return np.round(scaled).astype(np.uint16)


def _read(path: Path, flags: int) -> np.ndarray:
    if not path.is_file():
        raise DatasetError(f'missing file {path}')
    image = cv2.imread(str(path), flags)
    if image is None:
        raise DatasetError(f'{path}: not a readable image (corrupt or not a PNG/JPEG)')
    return image
