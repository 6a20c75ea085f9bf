# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""What ``mtl_infer`` makes of one prediction: pictures, per-frame files and a point cloud."""

from __future__ import annotations

from dataclasses import dataclass
import math
from pathlib import Path

from mtl_perception.engines.contract import Prediction
from mtl_perception.formats.images import depth_to_png, KITTI_DEPTH_SCALE, write_png
from mtl_perception.geometry import backproject, Intrinsics
from mtl_perception.visualize import (colourise_depth, colourise_labels, colourise_normals,
                                      depth_colour_bar, legend_strip, mosaic, render_cloud,
                                      stacked_frame)
import numpy as np
import torch


@dataclass
class FramePictures:
    """One frame and its predictions as RGB pictures of the frame's size."""

    image: np.ndarray
    segmentation: np.ndarray
    depth: np.ndarray
    normals: np.ndarray | None

    @classmethod
    def of(cls, bgr: np.ndarray, prediction: Prediction,
           depth_range: tuple[float, float]) -> FramePictures:
        """Draw the pictures of one frame (``bgr``) and its prediction."""
        normals = (None if prediction.normals is None
                   else colourise_normals(prediction.normals))
        return cls(np.ascontiguousarray(bgr[:, :, ::-1]),
                   colourise_labels(prediction.labels, prediction.palette),
                   colourise_depth(prediction.depth, depth_range), normals)

    @property
    def panels(self) -> list[np.ndarray]:
        """Image, segmentation, depth and (three-task models) normals, in that order."""
        panels = [self.image, self.segmentation, self.depth]
        return panels if self.normals is None else [*panels, self.normals]


class StackedFrames:
    """The seeds' video layout: panels top to bottom, class legend and depth colour bar below.

    The keys are drawn once per frame width.
    """

    def __init__(self, class_names: tuple[str, ...] | list[str], palette: np.ndarray,
                 depth_range: tuple[float, float]) -> None:
        self._class_names = class_names
        self._palette = palette
        self._depth_range = depth_range
        self._keys: dict[int, list[np.ndarray]] = {}

    def __call__(self, pictures: FramePictures) -> np.ndarray:
        """Return the stacked RGB picture of one frame."""
        width = pictures.image.shape[1]
        if width not in self._keys:
            self._keys[width] = [legend_strip(self._class_names, self._palette, width),
                                 depth_colour_bar(self._depth_range, width=width)]
        return stacked_frame(pictures.panels, self._keys[width])


def write_frame_files(name: str, pictures: FramePictures, prediction: Prediction,
                      output: Path) -> None:
    """Write one frame's PNGs: pictures, class ids and metric depth (see ``mtl_infer -h``)."""
    files = {'segmentation': pictures.segmentation, 'depth': pictures.depth,
             'mosaic': mosaic(*pictures.panels),
             'labels': prediction.labels,
             'depth16': depth_to_png(prediction.depth, KITTI_DEPTH_SCALE)}
    if pictures.normals is not None:
        files['normals'] = pictures.normals
    for kind, image in files.items():
        write_png(output / f'{name}_{kind}.png', image)


def intrinsics_for(width: int, height: int, values: list[float] | None,
                   hfov_degrees: float) -> Intrinsics:
    """Intrinsics from ``--intrinsics FX FY CX CY`` or from a horizontal field of view."""
    if values is not None:
        return Intrinsics(*values, width=width, height=height)
    focal = (width / 2.0) / math.tan(math.radians(hfov_degrees) / 2.0)
    return Intrinsics(focal, focal, (width - 1) / 2.0, (height - 1) / 2.0, width, height)


def write_frame_cloud(name: str, prediction: Prediction, pictures: FramePictures,
                      intrinsics: Intrinsics, output: Path) -> None:
    """Back-project one frame's valid depths; write them as a semantic PLY and a picture."""
    from mtl_perception.tools.ply import write_semantic_ply  # Open3D: only for --ply
    points = backproject(torch.from_numpy(prediction.depth), intrinsics).numpy()
    valid = np.isfinite(prediction.depth)
    colours = pictures.segmentation[valid]
    write_semantic_ply(output / f'{name}.ply', points[valid], colours, prediction.labels[valid])
    write_png(output / f'{name}_cloud.png', render_cloud(points[valid], colours))
