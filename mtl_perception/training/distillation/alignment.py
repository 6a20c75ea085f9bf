# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Relative depth made metric, per frame, against metric anchors.

A relative teacher (Depth Anything, DPT, MiDaS) predicts inverse depth up to an unknown
scale and shift. Anchors with known metres fix both: LiDAR returns projected into the image,
or, on a camera of known height and pitch, the ground plane under road/sidewalk/floor pixels.
The fit ``1/z = scale * relative + shift`` is least squares repeated on the anchors that agree
(residual within 3 median absolute deviations), so that LiDAR returns through glass, moving
objects and mislabelled ground do not pull it. Its residual is the median relative depth error
over all anchors; a frame whose fit is poor is skipped, not written.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

from mtl_perception.geometry import Intrinsics
from mtl_perception.lidar_projection import project_nearest
import numpy as np

ROUNDS = 5
MIN_ANCHORS = 20
#: Student classes whose pixels lie on the ground plane.
GROUND_CLASSES = ('road', 'sidewalk', 'floor', 'terrain', 'floor mat')


@dataclass(frozen=True)
class Anchors:
    """Pixels of known metric depth: ``rows``, ``cols`` (int) and ``depth`` (metres)."""

    rows: np.ndarray
    cols: np.ndarray
    depth: np.ndarray
    kind: str

    def __len__(self) -> int:
        return int(self.depth.size)


@dataclass(frozen=True)
class Fit:
    """``1/z = scale * relative + shift``, with its residual and support."""

    scale: float
    shift: float
    residual: float
    inliers: int
    anchors: int

    def to_dict(self) -> dict[str, float]:
        """Return the fit as manifest numbers."""
        return {'scale': self.scale, 'shift': self.shift, 'residual': self.residual,
                'inliers': self.inliers, 'anchors': self.anchors}


def points_to_anchors(points: np.ndarray, intrinsics: tuple[float, float, float, float],
                      size: tuple[int, int], depth_range: tuple[float, float]) -> Anchors:
    """Project ``(N, 3)`` points in the camera optical frame; nearest return per pixel.

    Points behind the camera, outside the image or outside ``depth_range`` are dropped.
    """
    fx, fy, cx, cy = intrinsics
    nearest = project_nearest(points, Intrinsics(fx, fy, cx, cy, size[1], size[0]),
                              depth_range)
    found_rows, found_cols = np.nonzero(np.isfinite(nearest))
    return Anchors(found_rows, found_cols, nearest[found_rows, found_cols].astype(np.float64),
                   'lidar')


def ground_anchors(ground: np.ndarray, intrinsics: tuple[float, float, float, float],
                   height_m: float, pitch_rad: float,
                   depth_range: tuple[float, float]) -> Anchors:
    """Depth of ``ground`` pixels from the plane ``height_m`` below a camera pitched down.

    In the optical frame (x right, y down, z forward) of a camera pitched down by
    ``pitch_rad``, world down is ``n = (0, cos p, sin p)``; the pixel ray ``d = ((u - cx)/fx,
    (v - cy)/fy, 1)`` meets the ground at z-depth ``h / (n . d)`` where ``n . d > 0``.
    """
    _, fy, _, cy = intrinsics  # the ground's depth does not depend on the column
    rows, cols = np.nonzero(ground)
    ray_y = (rows + 0.5 - cy) / fy
    downward = ray_y * math.cos(pitch_rad) + math.sin(pitch_rad)
    with np.errstate(divide='ignore'):
        depth = np.where(downward > 1e-6, height_m / np.maximum(downward, 1e-6), np.inf)
    keep = (depth > depth_range[0]) & (depth < depth_range[1])
    return Anchors(rows[keep], cols[keep], depth[keep], 'ground plane')


def fit_inverse_depth(relative: np.ndarray, anchors: Anchors) -> Fit | None:
    """Fit ``1/z = scale * relative + shift`` robustly on ``anchors``; None if too few."""
    if len(anchors) < MIN_ANCHORS:
        return None
    x = relative[anchors.rows, anchors.cols].astype(np.float64)
    target = 1.0 / anchors.depth
    usable = np.isfinite(x)
    x, target, depth = x[usable], target[usable], anchors.depth[usable]
    if x.size < MIN_ANCHORS or np.ptp(x) == 0:
        return None
    inliers = np.ones(x.size, dtype=bool)
    for _ in range(ROUNDS):
        design = np.stack([x[inliers], np.ones(int(inliers.sum()))], axis=1)
        (scale, shift), *_ = np.linalg.lstsq(design, target[inliers], rcond=None)
        error = np.abs(scale * x + shift - target)
        deviation = np.median(np.abs(error[inliers] - np.median(error[inliers])))
        inliers = error <= np.median(error[inliers]) + 3.0 * max(deviation, 1e-9)
        if inliers.sum() < MIN_ANCHORS:
            return None
    fitted = scale * x + shift
    with np.errstate(divide='ignore'):
        relative_error = np.abs(np.where(fitted > 0, 1.0 / fitted, np.inf) - depth) / depth
    return Fit(float(scale), float(shift), float(np.median(relative_error)),
               int(inliers.sum()), int(x.size))


def apply_fit(relative: np.ndarray, fit: Fit) -> np.ndarray:
    """Metres from relative inverse depth through ``fit``; NaN where the fit gives no depth."""
    inverse = fit.scale * relative.astype(np.float64) + fit.shift
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(inverse > 0, 1.0 / inverse, np.nan).astype(np.float32)
