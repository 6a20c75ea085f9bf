# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""A simulated rotating 64-beam LiDAR (Velodyne HDL-64E-like), ray-cast in the street scene.

Geometry as KITTI's HDL-64E: 64 beams from +2 deg to -24.33 deg (the upper block 1/3 deg
apart, the lower 1/2 deg), one revolution per scan at 10 Hz with 0.1728 deg between firings
(2084 per revolution), 120 m range. Each beam's return is the renderer's nearest hit along
it (:func:`~mtl_perception.synthetic.raycast.cast_rays`): the range is exact, without range
noise, so that tools can be checked against it. Reflectance depends on the material and the
angle of incidence; returns drop out at random (2 %), on glass (70 %) and under a weak
signal, as real scans lose them. The sweep is instantaneous (no motion distortion).
Points are in the sensor frame ``velo_link``: x forward, y left, z up.
"""

from __future__ import annotations

from dataclasses import dataclass

from mtl_perception.synthetic.raycast import cast_rays, SceneTensors
from mtl_perception.synthetic.scene import Material, StreetScene
import numpy as np
import torch

UPPER_BLOCK_DEG = 2.0 - np.arange(32) / 3.0
LOWER_BLOCK_DEG = -8.83 - np.arange(32) / 2.0
ELEVATIONS_DEG = np.concatenate([UPPER_BLOCK_DEG, LOWER_BLOCK_DEG])
FIRINGS_PER_REVOLUTION = 2084
MAX_RANGE_M = 120.0
MIN_RANGE_M = 0.9
DROPOUT = 0.02
GLASS_DROPOUT = 0.7
MIN_REFLECTANCE = 0.02
#: Diffuse reflectance at 905 nm per material (index = :class:`Material`).
REFLECTANCE = np.array([0.12, 0.25, 0.35, 0.45, 0.55, 0.3, 0.4, 0.45, 0.6, 0.05],
                       dtype=np.float32)


@dataclass(frozen=True)
class LidarScan:
    """One revolution: ``points`` ``(N, 4)`` float32 x, y, z, reflectance in ``velo_link``.

    ``beams`` and ``firings`` give each point's beam (0 = highest) and firing index.
    """

    points: np.ndarray
    beams: np.ndarray
    firings: np.ndarray


def beam_directions() -> np.ndarray:
    """Return the unit direction of every (beam, firing) in ``velo_link``: ``(64, F, 3)``."""
    elevation = np.radians(ELEVATIONS_DEG)[:, None]
    azimuth = np.radians(np.arange(FIRINGS_PER_REVOLUTION) * 360.0 / FIRINGS_PER_REVOLUTION)
    return np.stack(np.broadcast_arrays(np.cos(elevation) * np.cos(azimuth),
                                        np.cos(elevation) * np.sin(azimuth),
                                        np.sin(elevation)), axis=-1)


def simulate_scan(scene: StreetScene, world_from_lidar: np.ndarray, *, seed: int) -> LidarScan:
    """Ray-cast one revolution from ``world_from_lidar`` (4x4, into the scene's world frame).

    The scene's world frame is x right, y up, z forward (left-handed): ``world_from_lidar``
    carries that handedness change, so its 3x3 part has determinant -1.
    """
    directions = beam_directions().reshape(-1, 3)
    world_directions = torch.from_numpy(directions @ world_from_lidar[:3, :3].T).float()
    origin = torch.from_numpy(world_from_lidar[:3, 3]).float()
    tensors = SceneTensors(scene)
    hits = cast_rays(origin, world_directions, scene, tensors, max_distance=MAX_RANGE_M)
    distance = hits.t.reshape(-1)
    index = hits.index.reshape(-1)
    hit = torch.isfinite(distance) & (distance >= MIN_RANGE_M) & (distance <= MAX_RANGE_M)
    material = tensors.materials[index.clamp(min=0)].numpy()
    incidence = (hits.normal.reshape(-1, 3) * world_directions).sum(-1).abs().numpy()
    reflectance = REFLECTANCE[np.clip(material, 0, len(REFLECTANCE) - 1)] * (
        0.3 + 0.7 * incidence)
    draws = np.random.default_rng([seed, 64]).random(len(directions))
    keep = (hit.numpy() & (draws >= DROPOUT) & (reflectance >= MIN_REFLECTANCE)
            & ~((material == Material.GLASS) & (draws < GLASS_DROPOUT)))
    ranges = distance.numpy()[keep].astype(np.float64)
    points = np.concatenate([directions[keep] * ranges[:, None], reflectance[keep, None]], 1)
    flat = np.flatnonzero(keep)
    return LidarScan(points.astype(np.float32), flat // FIRINGS_PER_REVOLUTION,
                     flat % FIRINGS_PER_REVOLUTION)
