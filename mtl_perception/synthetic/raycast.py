# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Ray casting of a :class:`StreetScene`: the nearest hit of every pixel's ray.

One ray per pixel centre, intersected with every box (slab test, tile by tile where the box
projects), sphere and the road plane in batched tensor operations; the nearest hit decides
class, distance and surface normal.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

from mtl_perception.geometry import Intrinsics
from mtl_perception.synthetic.scene import CLASS_SET, Material, StreetScene
import numpy as np
import torch

SKY_ID = CLASS_SET.names.index('sky')
ROAD_ID = CLASS_SET.names.index('road')
_TILE = 32
_NEAR = 1e-3


@dataclass(frozen=True)
class CameraPose:
    """Camera placement in the street's world frame (x right, y up, z forward).

    Attributes:
        x: Lateral position in metres.
        height: Optical centre above the road in metres.
        z: Position along the street in metres.
        yaw: Left (+) / right (-) turn in radians.
        pitch: Downward (+) tilt in radians.
        roll: Clockwise (+) roll in radians, seen from behind the camera.
    """

    x: float
    height: float
    z: float
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0

    def rotation(self) -> np.ndarray:
        """Rotation from the camera's optical frame (x right, y down, z ahead) to the world."""
        cy, sy = math.cos(self.yaw), math.sin(self.yaw)
        cp, sp = math.cos(self.pitch), math.sin(self.pitch)
        cr, sr = math.cos(self.roll), math.sin(self.roll)
        yaw = np.array([[cy, 0, -sy], [0, 1, 0], [sy, 0, cy]])
        pitch = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
        roll = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
        flip_y = np.diag([1.0, -1.0, 1.0])
        return yaw @ pitch @ roll @ flip_y

    def matrix(self) -> np.ndarray:
        """4x4 transform from the optical frame to the world frame."""
        transform = np.eye(4)
        transform[:3, :3] = self.rotation()
        transform[:3, 3] = (self.x, self.height, self.z)
        return transform


class SceneTensors:
    """The scene's primitives as tensors: boxes, then spheres, then the road plane."""

    def __init__(self, scene: StreetScene) -> None:
        boxes, spheres = scene.boxes, scene.spheres
        self.box_min = torch.from_numpy(boxes.geometry[:, :3])
        self.box_max = torch.from_numpy(boxes.geometry[:, 3:])
        self.sphere_centre = torch.from_numpy(spheres.geometry[:, :3])
        self.sphere_radius = torch.from_numpy(spheres.geometry[:, 3])
        self.road_index = len(boxes) + len(spheres)
        self.class_ids = torch.from_numpy(np.concatenate(
            [boxes.class_ids, spheres.class_ids, [ROAD_ID, SKY_ID]]))
        self.materials = torch.from_numpy(np.concatenate(
            [boxes.materials, spheres.materials, [Material.ASPHALT, -1]]))
        self.colours = torch.from_numpy(np.concatenate(
            [boxes.colours, spheres.colours, scene.asphalt[None], np.zeros((1, 3))]
        ).astype(np.float32))
        self.variation = hash1(torch.arange(len(self.class_ids), dtype=torch.float32))


def hash1(values: torch.Tensor) -> torch.Tensor:
    """Cheap deterministic pseudo-random values in [0, 1) from any float tensor."""
    return torch.frac(torch.sin(values * 12.9898 + 78.233) * 43758.5453).abs()


def ray_directions(intrinsics: Intrinsics, pose: CameraPose) -> torch.Tensor:
    """World-frame ray per pixel, scaled so that the ray parameter equals z-depth."""
    u = torch.arange(intrinsics.width, dtype=torch.float64)
    v = torch.arange(intrinsics.height, dtype=torch.float64)
    rows, cols = torch.meshgrid(v, u, indexing='ij')
    optical = torch.stack([(cols - intrinsics.cx) / intrinsics.fx,
                           (rows - intrinsics.cy) / intrinsics.fy,
                           torch.ones_like(cols)], dim=-1).reshape(-1, 3)
    directions = optical @ torch.from_numpy(pose.rotation()).T
    tiny = torch.full_like(directions, 1e-9)
    directions = torch.where(directions.abs() < 1e-9, tiny, directions)
    return directions.float()


class Hits:
    """Nearest hit per pixel: distance, primitive index and surface normal, as ``(H, W)``."""

    def __init__(self, height: int, width: int) -> None:
        self.t = torch.full((height, width), math.inf)
        self.index = torch.full((height, width), -1, dtype=torch.long)
        self.normal = torch.zeros(height, width, 3)

    def update_tile(self, region: tuple[slice, slice], t: torch.Tensor, index: torch.Tensor,
                    normal: torch.Tensor) -> None:
        """Keep the new hits of the pixels in ``region`` that are closer than the current."""
        shape = self.t[region].shape
        t, index, normal = t.reshape(shape), index.reshape(shape), normal.reshape(*shape, 3)
        closer = t < self.t[region]
        self.t[region] = torch.where(closer, t, self.t[region])
        self.index[region] = torch.where(closer, index, self.index[region])
        self.normal[region] = torch.where(closer[..., None], normal, self.normal[region])

    def update(self, t: torch.Tensor, index: torch.Tensor, normal: torch.Tensor) -> None:
        """Keep the new hits (one per pixel, flattened) that are closer than the current."""
        self.update_tile((slice(None), slice(None)), t, index, normal)


def _screen_rectangles(tensors: SceneTensors, pose: CameraPose,
                       intrinsics: Intrinsics) -> np.ndarray:
    """Conservative pixel rectangle ``(u0, v0, u1, v1)`` covered by each box; empty if unseen.

    Boxes reaching behind the camera get the whole image; boxes entirely behind it nothing.
    """
    low, high = tensors.box_min.numpy(), tensors.box_max.numpy()
    corners = np.stack([np.where(np.array(bits, bool), high, low)
                        for bits in np.ndindex(2, 2, 2)], axis=1)
    world_to_optical = pose.rotation().T
    optical = (corners - np.array([pose.x, pose.height, pose.z])) @ world_to_optical.T
    depth = optical[..., 2]
    safe = np.maximum(depth, _NEAR)
    u = intrinsics.fx * optical[..., 0] / safe + intrinsics.cx
    v = intrinsics.fy * optical[..., 1] / safe + intrinsics.cy
    rectangles = np.stack([np.floor(u.min(1)), np.floor(v.min(1)),
                           np.ceil(u.max(1)) + 1, np.ceil(v.max(1)) + 1], axis=1)
    straddling = (depth <= _NEAR).any(1)
    rectangles[straddling] = (0, 0, intrinsics.width, intrinsics.height)
    rectangles[(depth <= _NEAR).all(1)] = 0
    limits = np.array([intrinsics.width, intrinsics.height] * 2)
    return np.clip(rectangles, 0, limits).astype(np.int64)


def _intersect_box_batch(origin: torch.Tensor, directions: torch.Tensor, low: torch.Tensor,
                         high: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Slab test of rays against boxes: nearest distance, box and normal per ray."""
    inverse = 1.0 / directions
    near_planes = (low - origin)[None] * inverse[:, None]
    far_planes = (high - origin)[None] * inverse[:, None]
    t_near, axis = torch.minimum(near_planes, far_planes).max(dim=-1)
    t_far = torch.maximum(near_planes, far_planes).amin(dim=-1)
    t_near = torch.where((t_near <= t_far) & (t_near > _NEAR), t_near, math.inf)
    best_t, best = t_near.min(dim=1)
    best_axis = axis.gather(1, best[:, None])[:, 0]
    normal = -torch.nn.functional.one_hot(best_axis, 3).float() * torch.sign(directions)
    return best_t, best, normal


def intersect_boxes(origin: torch.Tensor, directions: torch.Tensor, tensors: SceneTensors,
                    hits: Hits, pose: CameraPose, intrinsics: Intrinsics) -> None:
    """Test each image tile's rays only against the boxes whose screen rectangle meets it."""
    rectangles = _screen_rectangles(tensors, pose, intrinsics)
    grid = directions.reshape(intrinsics.height, intrinsics.width, 3)
    for top in range(0, intrinsics.height, _TILE):
        for left in range(0, intrinsics.width, _TILE):
            bottom, right = top + _TILE, left + _TILE
            seen = np.flatnonzero((rectangles[:, 0] < right) & (rectangles[:, 2] > left)
                                  & (rectangles[:, 1] < bottom) & (rectangles[:, 3] > top))
            if not len(seen):
                continue
            tile = grid[top:bottom, left:right]
            rays = tile.reshape(-1, 3)
            chosen = torch.from_numpy(seen)
            t, best, normal = _intersect_box_batch(
                origin, rays, tensors.box_min[chosen], tensors.box_max[chosen])
            hits.update_tile((slice(top, bottom), slice(left, right)), t, chosen[best], normal)


def intersect_spheres(origin: torch.Tensor, directions: torch.Tensor,
                      tensors: SceneTensors, hits: Hits) -> None:
    """Record the nearer of each ray's sphere hits (the trees' crowns)."""
    if not len(tensors.sphere_radius):
        return
    offset = origin - tensors.sphere_centre
    half_b = directions @ offset.T
    a = (directions * directions).sum(-1, keepdim=True)
    c = (offset * offset).sum(-1) - tensors.sphere_radius ** 2
    discriminant = half_b ** 2 - a * c
    t = (-half_b - discriminant.clamp(min=0).sqrt()) / a
    t = torch.where((discriminant >= 0) & (t > _NEAR), t, math.inf)
    best_t, best = t.min(dim=1)
    points = origin + best_t[:, None].clamp(max=1e6) * directions
    normal = torch.nn.functional.normalize(points - tensors.sphere_centre[best], dim=-1)
    hits.update(best_t, best + len(tensors.box_min), normal)


def intersect_road(origin: torch.Tensor, directions: torch.Tensor, scene: StreetScene,
                   tensors: SceneTensors, hits: Hits) -> None:
    """Record hits of the road plane (y = 0) within the road's half width."""
    t = -origin[1] / directions[:, 1]
    x = origin[0] + t * directions[:, 0]
    t = torch.where((t > _NEAR) & (x.abs() < scene.road_half_width), t, math.inf)
    up = torch.tensor([0.0, 1.0, 0.0]).expand_as(directions)
    hits.update(t, torch.full_like(hits.index, tensors.road_index), up)


def cast_rays(origin: torch.Tensor, directions: torch.Tensor, scene: StreetScene,
              tensors: SceneTensors, *, max_distance: float = math.inf,
              chunk: int = 8192) -> Hits:
    """Nearest hit of arbitrary rays (any sensor, not only a pinhole camera), as ``(1, N)``.

    The same intersection tests as a camera frame; boxes farther than ``max_distance`` from
    the origin are left out, and rays go through in chunks to bound memory.
    """
    hits = Hits(1, len(directions))
    low, high = tensors.box_min, tensors.box_max
    gap = torch.maximum(torch.maximum(low - origin, origin - high), torch.zeros(()))
    near = torch.nonzero(gap.norm(dim=1) <= max_distance).reshape(-1)
    for start in range(0, len(directions), chunk):
        rays = directions[start:start + chunk]
        if len(near):
            t, best, normal = _intersect_box_batch(origin, rays, low[near], high[near])
            hits.update_tile((slice(None), slice(start, start + len(rays))), t, near[best],
                             normal)
    intersect_spheres(origin, directions, tensors, hits)
    intersect_road(origin, directions, scene, tensors, hits)
    return hits
