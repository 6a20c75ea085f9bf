# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Semantic point clouds as PLY files, through Open3D's tensor API."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import open3d as o3d


def write_semantic_ply(path: str | Path, points: np.ndarray, colours: np.ndarray,
                       labels: np.ndarray) -> Path:
    """Write ``N`` points with uint8 RGB colours and an integer ``label`` property.

    Args:
        path: Destination ``.ply`` file.
        points: ``(N, 3)`` coordinates in metres.
        colours: ``(N, 3)`` uint8 RGB.
        labels: ``(N,)`` class ids.

    Returns:
        The path written.

    Raises:
        OSError: If Open3D cannot write the file.
    """
    cloud = o3d.t.geometry.PointCloud()
    cloud.point.positions = o3d.core.Tensor(np.ascontiguousarray(points, dtype=np.float32))
    cloud.point.colors = o3d.core.Tensor(np.ascontiguousarray(colours, dtype=np.uint8))
    cloud.point.label = o3d.core.Tensor(
        np.ascontiguousarray(labels, dtype=np.int32).reshape(-1, 1))
    if not o3d.t.io.write_point_cloud(str(path), cloud):
        raise OSError(f'Open3D could not write the point cloud {str(path)!r}')
    return Path(path)
