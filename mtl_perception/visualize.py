# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Pictures of predictions for people: palette images, depth colour maps and mosaics."""

from __future__ import annotations

import cv2
import numpy as np


def colourise_labels(labels: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Map ``HxW`` class ids to an ``HxWx3`` RGB image; ids without a colour are black."""
    lookup = np.zeros((256, 3), dtype=np.uint8)
    lookup[:len(palette)] = palette
    return lookup[np.clip(labels, 0, 255).astype(np.intp)]


def colourise_depth(depth: np.ndarray, depth_range: tuple[float, float]) -> np.ndarray:
    """Colour metric depth with the turbo map, near red to far blue; invalid pixels black.

    Inverse depth is mapped linearly so that the near field, where detail matters, gets
    most of the colour range.
    """
    near, far = max(depth_range[0], 1e-3), depth_range[1]
    valid = np.isfinite(depth) & (depth > 0)
    inverse = 1.0 / np.clip(np.nan_to_num(depth, nan=far, posinf=far, neginf=far), near, far)
    scaled = (inverse - 1.0 / far) / (1.0 / near - 1.0 / far)
    grey = np.clip(scaled * 255.0, 0, 255).astype(np.uint8)
    coloured = cv2.applyColorMap(grey, cv2.COLORMAP_TURBO)[..., ::-1]
    coloured[~valid] = 0
    return np.ascontiguousarray(coloured)


def colourise_normals(normals: np.ndarray) -> np.ndarray:
    """Colour ``HxWx3`` unit normals by the usual ``(n + 1) / 2`` mapping; NaN pixels black."""
    finite = np.isfinite(normals).all(axis=-1)
    colour = np.round((np.nan_to_num(normals, nan=-1.0) + 1.0) * 127.5)
    colour = np.clip(colour, 0, 255).astype(np.uint8)
    colour[~finite] = 0
    return colour


def legend(names: tuple[str, ...] | list[str], palette: np.ndarray, *,
           row_height: int = 22, width: int = 260) -> np.ndarray:
    """Draw a class legend: one row per class id with its colour swatch and ``id name``."""
    picture = np.full((row_height * len(names), width, 3), 255, np.uint8)
    for index, (name, colour) in enumerate(zip(names, palette)):
        top = index * row_height
        picture[top + 3:top + row_height - 3, 4:40] = colour
        cv2.putText(picture, f'{index:3d} {name}', (48, top + row_height - 7),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return picture


def mosaic(*images: np.ndarray) -> np.ndarray:
    """Place equally tall RGB images side by side."""
    return np.concatenate(images, axis=1)


def render_cloud(points: np.ndarray, colours: np.ndarray, *, size: tuple[int, int] = (480, 800),
                 behind: float = 12.0, above: float = 6.0, pitch_deg: float = 8.0,
                 focal_fraction: float = 0.7) -> np.ndarray:
    """Draw a point cloud (camera optical frame) as seen from a virtual camera behind it.

    A z-buffer keeps the nearest point per pixel, each point covering 2x2 pixels; nothing
    else (no OpenGL) is needed, so it works on headless machines.

    Args:
        points: ``(N, 3)`` x right, y down, z forward, metres.
        colours: ``(N, 3)`` uint8 RGB.
        size: ``(height, width)`` of the picture.
        behind: How far behind the real camera the virtual one sits, metres.
        above: How far above it, metres.
        pitch_deg: Downward tilt of the virtual camera.
        focal_fraction: Focal length as a fraction of the picture width.
    """
    height, width = size
    pitch = np.deg2rad(pitch_deg)
    rotation = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)],
                         [0, np.sin(pitch), np.cos(pitch)]])
    view = (points - np.array([0.0, -above, -behind])) @ rotation.T
    focal = focal_fraction * width
    keep = np.isfinite(view).all(1) & (view[:, 2] > 0.5)
    view, colours = view[keep], colours[keep]
    u = np.round(focal * view[:, 0] / view[:, 2] + width / 2).astype(np.int64)
    v = np.round(focal * view[:, 1] / view[:, 2] + height / 2).astype(np.int64)
    picture = np.full((height, width, 3), 24, np.uint8)
    order = np.argsort(-view[:, 2])
    for du in (0, 1):
        for dv in (0, 1):
            uu, vv = u[order] + du, v[order] + dv
            inside = (uu >= 0) & (uu < width) & (vv >= 0) & (vv < height)
            picture[vv[inside], uu[inside]] = colours[order][inside]
    return picture
