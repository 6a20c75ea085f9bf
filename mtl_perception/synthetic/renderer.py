# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Renders a :class:`StreetScene`: RGB, metric z-depth and class ids of one camera frame.

The rays are cast by :mod:`.raycast` and their hits shaded by :mod:`.shading`; haze towards
the horizon colour is added here, then a per-frame camera response
(:mod:`mtl_perception.synthetic.sensor`) makes the pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

from mtl_perception.geometry import Intrinsics
from mtl_perception.synthetic.raycast import (
    CameraPose, Hits, intersect_boxes, intersect_road, intersect_spheres, ray_directions,
    SceneTensors
)
from mtl_perception.synthetic.scene import StreetScene
from mtl_perception.synthetic.sensor import SensorResponse
from mtl_perception.synthetic.shading import albedo_of, sky_colour, sunlight
import numpy as np
import torch

__all__ = ['CameraPose', 'render', 'SyntheticFrame']


@dataclass
class SyntheticFrame:
    """One rendered frame.

    Attributes:
        rgb: ``(H, W, 3)`` uint8.
        depth: ``(H, W)`` float32 z-depth in metres; NaN for sky and beyond ``max_depth``.
        labels: ``(H, W)`` uint8 ids of the ``synthetic`` class set.
        intrinsics: The pinhole camera the frame was rendered with.
        pose: 4x4 optical-frame-to-world transform.
    """

    rgb: np.ndarray
    depth: np.ndarray
    labels: np.ndarray
    intrinsics: Intrinsics
    pose: np.ndarray


def render(scene: StreetScene, pose: CameraPose, intrinsics: Intrinsics, *,
           max_depth: float = 80.0, noise_seed: int = 0,
           sensor: SensorResponse | None = None) -> SyntheticFrame:
    """Ray-cast one frame of ``scene`` from ``pose``.

    Args:
        scene: The street.
        pose: Where the camera is.
        intrinsics: Pinhole camera; the frame has its width and height.
        max_depth: Depth beyond this many metres is marked invalid (NaN), like a sensor's range.
        noise_seed: Seed of this frame's sensor noise (and of its response when none is given).
        sensor: Camera response; drawn from ``noise_seed`` by default.
    """
    tensors = SceneTensors(scene)
    origin = torch.tensor([pose.x, pose.height, pose.z], dtype=torch.float32)
    directions = ray_directions(intrinsics, pose)
    hits = Hits(intrinsics.height, intrinsics.width)
    intersect_boxes(origin, directions, tensors, hits, pose, intrinsics)
    intersect_spheres(origin, directions, tensors, hits)
    intersect_road(origin, directions, scene, tensors, hits)

    distance, normal = hits.t.reshape(-1), hits.normal.reshape(-1, 3)
    missed = ~torch.isfinite(distance)
    index = torch.where(missed, len(tensors.class_ids) - 1, hits.index.reshape(-1))
    points = origin + distance.clamp(max=1e4)[:, None] * directions
    albedo = albedo_of(points, normal, index, scene, tensors)
    light = scene.ambient + (1 - scene.ambient) * sunlight(points, normal, scene)
    colour = albedo * light
    horizon = torch.from_numpy(scene.sky_horizon.astype(np.float32))
    haze = 1 - torch.exp(-distance.clamp(max=1e4) / scene.haze_distance)[:, None]
    colour = colour + (horizon - colour) * haze
    colour = torch.where(missed[:, None], sky_colour(directions, scene), colour)

    generator = torch.Generator().manual_seed(noise_seed)
    sensor = sensor or SensorResponse.random(generator)
    shape = (intrinsics.height, intrinsics.width)
    rgb = sensor.apply(colour.reshape(*shape, 3), generator)
    depth = torch.where(missed | (distance > max_depth), math.nan, distance).reshape(shape)
    labels = tensors.class_ids[index].to(torch.uint8).reshape(shape)
    return SyntheticFrame(rgb.numpy(), depth.numpy(), labels.numpy(), intrinsics, pose.matrix())
