# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""LiDAR returns as a sparse depth image: projection into a camera, nearest return per pixel.

Points are in the camera's optical frame (x right, y down, z ahead). A return lands on the
pixel whose centre is nearest to its projection (integer coordinates are pixel centres, as
in :mod:`mtl_perception.geometry`); where several land on one pixel the nearest is kept, as
the KITTI depth benchmark and the Eigen-split evaluation do.
"""

from __future__ import annotations

from mtl_perception.geometry import Intrinsics
import numpy as np


def transform_points(points: np.ndarray, transform: np.ndarray) -> np.ndarray:
    """Apply a 4x4 rigid transform to ``(N, 3)`` points."""
    return points @ transform[:3, :3].T + transform[:3, 3]


def project_nearest(points: np.ndarray, intrinsics: Intrinsics,
                    depth_range: tuple[float, float] = (1e-3, np.inf)) -> np.ndarray:
    """Return an ``(H, W)`` float32 z-depth image of ``(N, 3)`` points; NaN where none landed.

    Points behind the camera, outside the image or outside ``depth_range`` (metres, open
    interval) are dropped.
    """
    size = (intrinsics.height, intrinsics.width)
    z = points[:, 2]
    keep = np.isfinite(points).all(1) & (z > depth_range[0]) & (z < depth_range[1])
    x, y, z = points[keep, 0], points[keep, 1], z[keep]
    cols = np.floor(intrinsics.fx * x / z + intrinsics.cx + 0.5).astype(np.int64)
    rows = np.floor(intrinsics.fy * y / z + intrinsics.cy + 0.5).astype(np.int64)
    inside = (cols >= 0) & (cols < size[1]) & (rows >= 0) & (rows < size[0])
    rows, cols, z = rows[inside], cols[inside], z[inside]
    order = np.argsort(-z, kind='stable')  # far first: the nearest per pixel is written last
    depth = np.full(size, np.nan, dtype=np.float32)
    depth[rows[order], cols[order]] = z[order]
    return depth
