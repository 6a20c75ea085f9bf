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


def mosaic(*images: np.ndarray) -> np.ndarray:
    """Place equally tall RGB images side by side."""
    return np.concatenate(images, axis=1)
