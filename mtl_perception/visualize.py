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


#: Nearest depth the colour scale resolves: a camera's scene starts beyond a metre, and a
#: scale that began at the model's limit (0.5 m) left everything from 1 to 80 m in a few
#: percent of the map.
DISPLAY_NEAR_M = 1.0


def display_range(depth_range: tuple[float, float]) -> tuple[float, float]:
    """Return the metres the depth colours span: the model's range, from 1 m at the nearest."""
    near, far = max(depth_range[0], DISPLAY_NEAR_M), depth_range[1]
    return (near, far) if far > near else (far / 2.0, far)


def depth_scale(depth: np.ndarray, depth_range: tuple[float, float]) -> np.ndarray:
    """Position of each depth on the colour scale: 1 at the near end, 0 at the far end.

    Logarithmic, so every doubling of distance gets the same share of colours (1-2 m as much
    as 40-80 m); outside the range the ends are used.
    """
    near, far = display_range(depth_range)
    clipped = np.clip(np.nan_to_num(depth, nan=far, posinf=far, neginf=near), near, far)
    return (np.log(far) - np.log(clipped)) / (np.log(far) - np.log(near))


def colourise_depth(depth: np.ndarray, depth_range: tuple[float, float]) -> np.ndarray:
    """Colour metric depth with the turbo map, near warm (red) to far cool (blue).

    The scale is :func:`depth_scale` (logarithmic over :func:`display_range`); pixels without
    a depth (NaN, +-Inf markers, zero or negative) are black. :func:`depth_colour_bar` draws
    the matching key in metres.
    """
    valid = np.isfinite(depth) & (depth > 0)
    grey = np.round(depth_scale(depth, depth_range) * 255.0).astype(np.uint8)
    coloured = cv2.applyColorMap(grey, cv2.COLORMAP_TURBO)[..., ::-1]
    coloured[~valid] = 0
    return np.ascontiguousarray(coloured)


def depth_colour_bar(depth_range: tuple[float, float], *, height: int = 24,
                     width: int = 640) -> np.ndarray:
    """Draw the key of :func:`colourise_depth`: near (left) to far, ticks labelled in metres."""
    near, far = display_range(depth_range)
    metres = near * (far / near) ** np.linspace(0.0, 1.0, width)
    bar = np.repeat(colourise_depth(metres[None].astype(np.float32), depth_range),
                    height, axis=0)
    picture = np.full((height + 16, width, 3), 255, np.uint8)
    picture[:height] = bar
    ticks = [t for t in (1, 2, 5, 10, 20, 40, 80, 160) if near <= t <= far]
    free_from = 0  # labels that would overlap the previous one are left out
    for tick in ticks:
        x = int(round((np.log(tick) - np.log(near)) / (np.log(far) - np.log(near))
                      * (width - 1)))
        picture[height - 6:height, x] = 0
        label = f'{tick} m'
        left = min(max(x - 4 * len(label) // 2, 0), width - 8 * len(label))
        if left >= free_from:
            cv2.putText(picture, label, (left, height + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35,
                        (0, 0, 0), 1, cv2.LINE_AA)
            free_from = left + 6 * len(label) + 4
    return picture


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


def legend_strip(names: tuple[str, ...] | list[str], palette: np.ndarray, width: int, *,
                 cell_width: int = 120, row_height: int = 16) -> np.ndarray:
    """Draw a class legend as wide as a frame: swatch and name per class, row after row."""
    columns = max(1, width // cell_width)
    rows = -(-len(names) // columns)
    picture = np.full((rows * row_height, width, 3), 255, np.uint8)
    for index, (name, colour) in enumerate(zip(names, palette)):
        top, left = (index // columns) * row_height, (index % columns) * cell_width
        picture[top + 3:top + row_height - 3, left + 3:left + 17] = colour
        cv2.putText(picture, name, (left + 21, top + row_height - 4),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
    return picture


def stacked_frame(panels: list[np.ndarray], keys: list[np.ndarray]) -> np.ndarray:
    """Stack equally wide RGB pictures top to bottom: the frame's panels, then their keys.

    The seeds' videos stack image, segmentation and depth this way; the keys (class legend,
    depth colour bar) are drawn at the frame's width below them.
    """
    return np.concatenate([*panels, *keys], axis=0)


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
