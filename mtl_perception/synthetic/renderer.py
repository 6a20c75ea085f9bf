# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Vectorised ray caster of a :class:`StreetScene`: RGB, metric z-depth and class ids.

One ray per pixel centre, intersected with every box (slab test), sphere and the road plane
in batched tensor operations; the nearest hit decides class, depth and surface. Surfaces are
shaded with procedural textures (asphalt grain, wear, tyre tracks and repair patches, lane
markings, paving joints, brick courses, windows, stains, foliage noise), coloured Lambert sun
light with patches of shade on the ground, haze towards the horizon colour and a cloudy sky;
then a per-frame camera response (:mod:`mtl_perception.synthetic.sensor`) makes the pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

from mtl_perception.geometry import Intrinsics
from mtl_perception.synthetic.scene import CLASS_SET, Material, StreetScene
from mtl_perception.synthetic.sensor import SensorResponse
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


class _SceneTensors:
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
        self.variation = _hash1(torch.arange(len(self.class_ids), dtype=torch.float32))


def _hash1(values: torch.Tensor) -> torch.Tensor:
    """Cheap deterministic pseudo-random values in [0, 1) from any float tensor."""
    return torch.frac(torch.sin(values * 12.9898 + 78.233) * 43758.5453).abs()


def _cell_noise(points: torch.Tensor, scale: float) -> torch.Tensor:
    """Value per cube of side ``1 / scale`` in world space: grain that sticks to surfaces."""
    cells = torch.floor(points * scale)
    return _hash1(cells @ torch.tensor([1.0, 57.0, 113.0]) * 0.1)


def _value_noise(coordinates: torch.Tensor, scale: float) -> torch.Tensor:
    """Smooth noise in [0, 1) over 2-D ``coordinates`` with features ``1 / scale`` apart."""
    scaled = coordinates * scale
    cell = torch.floor(scaled)
    fraction = scaled - cell
    weight = fraction * fraction * (3 - 2 * fraction)
    key = torch.tensor([1.0, 57.0])

    def corner(dx: float, dy: float) -> torch.Tensor:
        return _hash1((cell + torch.tensor([dx, dy])) @ key * 0.1)

    top = corner(0, 0) + (corner(1, 0) - corner(0, 0)) * weight[:, 0]
    bottom = corner(0, 1) + (corner(1, 1) - corner(0, 1)) * weight[:, 0]
    return top + (bottom - top) * weight[:, 1]


def _stains(points: torch.Tensor, scene: StreetScene) -> torch.Tensor:
    """Multiplicative dirt and weathering around 1, on whichever plane a point lies."""
    planar = points[:, [0, 2]] + points[:, 1:2] * torch.tensor([0.37, 0.71])
    blotches = _value_noise(planar, 0.5) * 0.6 + _value_noise(planar, 2.3) * 0.4
    return 1 + 0.25 * scene.texture_contrast * (blotches - 0.5)


def _ray_directions(intrinsics: Intrinsics, pose: CameraPose) -> torch.Tensor:
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


class _Hits:
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


def _screen_rectangles(tensors: _SceneTensors, pose: CameraPose,
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


def _intersect_boxes(origin: torch.Tensor, directions: torch.Tensor, tensors: _SceneTensors,
                     hits: _Hits, pose: CameraPose, intrinsics: Intrinsics) -> None:
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


def _intersect_spheres(origin: torch.Tensor, directions: torch.Tensor,
                       tensors: _SceneTensors, hits: _Hits) -> None:
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


def _intersect_road(origin: torch.Tensor, directions: torch.Tensor, scene: StreetScene,
                    tensors: _SceneTensors, hits: _Hits) -> None:
    t = -origin[1] / directions[:, 1]
    x = origin[0] + t * directions[:, 0]
    t = torch.where((t > _NEAR) & (x.abs() < scene.road_half_width), t, math.inf)
    up = torch.tensor([0.0, 1.0, 0.0]).expand_as(directions)
    hits.update(t, torch.full_like(hits.index, tensors.road_index), up)


def _markings(points: torch.Tensor, scene: StreetScene) -> torch.Tensor:
    x, z = points[:, 0:1], points[:, 2]
    dashed = torch.from_numpy(scene.dashed_lines.astype(np.float32))
    solid = torch.from_numpy(scene.solid_lines.astype(np.float32))
    on_dash = ((x - dashed).abs() < 0.07).any(-1) & (torch.remainder(z, 9.0) < 3.0)
    on_solid = ((x - solid).abs() < 0.08).any(-1)
    return on_dash | on_solid


def _asphalt(points: torch.Tensor, albedo: torch.Tensor, scene: StreetScene) -> torch.Tensor:
    """Road surface: wear along the tyre tracks, repair patches, faded markings."""
    x, z = points[:, 0:1], points[:, 2:3]
    lanes = np.concatenate([scene.dashed_lines, scene.solid_lines]).astype(np.float32)
    centres = torch.from_numpy(np.sort(lanes)[:-1] + np.diff(np.sort(lanes)) / 2)
    wheel_offset = (x - centres).abs() - 0.85
    tracks = torch.exp(-(wheel_offset / 0.3) ** 2).amax(-1, keepdim=True)
    worn = albedo * (1 - 0.25 * scene.road_wear * tracks)
    patch_cell = torch.floor(points[:, [0, 2]] / torch.tensor([2.5, 4.0]))
    patch = _hash1(patch_cell @ torch.tensor([3.1, 17.3]))[:, None]
    patched = patch < 0.15 * scene.road_wear
    shade = 0.7 + 0.5 * _hash1(patch * 91.0)
    worn = torch.where(patched, worn * shade, worn)
    paint = torch.tensor([0.85, 0.85, 0.8]) * (1 - 0.5 * scene.road_wear
                                               * _value_noise(torch.cat([x, z], 1), 1.5)[:, None])
    return torch.where(_markings(points, scene)[:, None], torch.maximum(paint, worn), worn)


def _albedo(points: torch.Tensor, normal: torch.Tensor, index: torch.Tensor,
            scene: StreetScene, tensors: _SceneTensors) -> torch.Tensor:
    """Surface colour before lighting, from each hit primitive's material."""
    base = tensors.colours[index]
    material = tensors.materials[index]
    variation = tensors.variation[index][:, None]
    grain = _cell_noise(points, 20.0)[:, None]
    albedo = base * (1 + scene.texture_contrast * 0.3 * (grain - 0.5))
    albedo = albedo * _stains(points, scene)[:, None]
    is_up = normal[:, 1:2] > 0.5
    facing_x = normal[:, 0:1].abs() > 0.5
    along = torch.where(facing_x, points[:, 2:3], points[:, 0:1])
    height = points[:, 1:2]

    asphalt = _asphalt(points, albedo, scene)
    joints = (torch.frac(points[:, [0, 2]] / 0.6) < 0.06).any(-1, keepdim=True) & is_up
    pavement = torch.where(joints, albedo * 0.6, albedo)
    courses = (torch.frac(height / 0.3) < 0.12) & (variation < 0.4)
    albedo_facade = torch.where(courses, albedo * 0.75, albedo)
    spacing = 2.0 + 1.5 * variation
    floor = 2.8 + 0.8 * _hash1(variation * 7.0)
    in_window = ((torch.frac(along / spacing) - 0.5).abs() < 0.25) & \
        ((torch.frac(height / floor) - 0.55).abs() < 0.25) & (height > 2.5) & ~is_up
    glass = torch.tensor([0.12, 0.16, 0.22]) + 0.25 * scene_sky(scene)[None] * grain
    facade = torch.where(is_up, albedo * 0.5, torch.where(in_window, glass, albedo_facade))
    leaves = base * (0.35 + 0.9 * _cell_noise(points, 9.0)[:, None]
                     * (0.6 + 0.4 * _cell_noise(points, 31.0)[:, None]))
    pillar = torch.frac(along / 1.3) < 0.12
    car_glass = torch.where(is_up | pillar, base, torch.tensor([0.06, 0.07, 0.09]))
    plain = base * (0.92 + 0.16 * grain)

    choices = {Material.ASPHALT: asphalt, Material.PAVEMENT: pavement, Material.FACADE: facade,
               Material.FOLIAGE: leaves, Material.GLASS: car_glass, Material.BARK: albedo,
               Material.CLOTH: albedo, Material.METAL: plain, Material.SKIN: plain,
               Material.PAINT: plain}
    result = torch.zeros_like(base)
    for kind, colour in choices.items():
        result = torch.where((material == kind)[:, None], colour, result)
    return result


def scene_sky(scene: StreetScene) -> torch.Tensor:
    """Mean sky colour (what windows reflect)."""
    return torch.from_numpy(((scene.sky_zenith + scene.sky_horizon) / 2).astype(np.float32))


def _sky(directions: torch.Tensor, scene: StreetScene) -> torch.Tensor:
    unit = torch.nn.functional.normalize(directions, dim=-1)
    elevation = unit[:, 1:2]
    blend = (elevation * 3).clamp(0, 1)
    horizon = torch.from_numpy(scene.sky_horizon.astype(np.float32))
    zenith = torch.from_numpy(scene.sky_zenith.astype(np.float32))
    sky = horizon + (zenith - horizon) * blend
    dome = unit[:, [0, 2]] / elevation.clamp(min=0.05)
    density = _value_noise(dome, 1.2) * 0.65 + _value_noise(dome, 4.0) * 0.35
    cloud = ((density - (1 - scene.cloud_cover)) * 4).clamp(0, 1)[:, None]
    grey = horizon.mean() * 1.1 * (0.8 + 0.2 * density[:, None])
    return sky + (grey - sky) * cloud * 0.9


def _sunlight(points: torch.Tensor, normal: torch.Tensor, scene: StreetScene) -> torch.Tensor:
    """Direct sun per hit: Lambert, coloured, and shaded on the ground in soft patches."""
    sun = torch.from_numpy(scene.sun.astype(np.float32))
    lambert = (normal @ sun).clamp(min=0)
    if scene.shadow_cover > 0:
        ground = points[:, [0, 2]] * torch.tensor([1.0, 0.5])
        shade = _value_noise(ground, 0.15) * 0.7 + _value_noise(ground, 0.6) * 0.3
        lit = ((shade - scene.shadow_cover) * 8 + 0.5).clamp(0, 1)
        lambert = torch.where(normal[:, 1] > 0.5, lambert * lit, lambert)
    colour = torch.from_numpy(scene.sun_colour.astype(np.float32))
    return lambert[:, None] * colour


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
    tensors = _SceneTensors(scene)
    origin = torch.tensor([pose.x, pose.height, pose.z], dtype=torch.float32)
    directions = _ray_directions(intrinsics, pose)
    hits = _Hits(intrinsics.height, intrinsics.width)
    _intersect_boxes(origin, directions, tensors, hits, pose, intrinsics)
    _intersect_spheres(origin, directions, tensors, hits)
    _intersect_road(origin, directions, scene, tensors, hits)

    distance, normal = hits.t.reshape(-1), hits.normal.reshape(-1, 3)
    missed = ~torch.isfinite(distance)
    index = torch.where(missed, len(tensors.class_ids) - 1, hits.index.reshape(-1))
    points = origin + distance.clamp(max=1e4)[:, None] * directions
    albedo = _albedo(points, normal, index, scene, tensors)
    light = scene.ambient + (1 - scene.ambient) * _sunlight(points, normal, scene)
    colour = albedo * light
    horizon = torch.from_numpy(scene.sky_horizon.astype(np.float32))
    haze = 1 - torch.exp(-distance.clamp(max=1e4) / scene.haze_distance)[:, None]
    colour = colour + (horizon - colour) * haze
    colour = torch.where(missed[:, None], _sky(directions, scene), colour)

    generator = torch.Generator().manual_seed(noise_seed)
    sensor = sensor or SensorResponse.random(generator)
    shape = (intrinsics.height, intrinsics.width)
    rgb = sensor.apply(colour.reshape(*shape, 3), generator)
    depth = torch.where(missed | (distance > max_depth), math.nan, distance).reshape(shape)
    labels = tensors.class_ids[index].to(torch.uint8).reshape(shape)
    return SyntheticFrame(rgb.numpy(), depth.numpy(), labels.numpy(), intrinsics, pose.matrix())
