# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Shading of ray hits: procedural textures, sun light and the sky.

Asphalt grain, wear, tyre tracks and repair patches, lane markings, paving joints, brick
courses, windows, stains, foliage noise; coloured Lambert sun light with soft patches of shade
on the ground; a cloudy sky from horizon to zenith.
"""

from __future__ import annotations

from mtl_perception.synthetic.raycast import hash1, SceneTensors
from mtl_perception.synthetic.scene import Material, StreetScene
import numpy as np
import torch


def _cell_noise(points: torch.Tensor, scale: float) -> torch.Tensor:
    """Value per cube of side ``1 / scale`` in world space: grain that sticks to surfaces."""
    cells = torch.floor(points * scale)
    return hash1(cells @ torch.tensor([1.0, 57.0, 113.0]) * 0.1)


def _value_noise(coordinates: torch.Tensor, scale: float) -> torch.Tensor:
    """Smooth noise in [0, 1) over 2-D ``coordinates`` with features ``1 / scale`` apart."""
    scaled = coordinates * scale
    cell = torch.floor(scaled)
    fraction = scaled - cell
    weight = fraction * fraction * (3 - 2 * fraction)
    key = torch.tensor([1.0, 57.0])

    def corner(dx: float, dy: float) -> torch.Tensor:
        return hash1((cell + torch.tensor([dx, dy])) @ key * 0.1)

    top = corner(0, 0) + (corner(1, 0) - corner(0, 0)) * weight[:, 0]
    bottom = corner(0, 1) + (corner(1, 1) - corner(0, 1)) * weight[:, 0]
    return top + (bottom - top) * weight[:, 1]


def _stains(points: torch.Tensor, scene: StreetScene) -> torch.Tensor:
    """Multiplicative dirt and weathering around 1, on whichever plane a point lies."""
    planar = points[:, [0, 2]] + points[:, 1:2] * torch.tensor([0.37, 0.71])
    blotches = _value_noise(planar, 0.5) * 0.6 + _value_noise(planar, 2.3) * 0.4
    return 1 + 0.25 * scene.texture_contrast * (blotches - 0.5)


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
    patch = hash1(patch_cell @ torch.tensor([3.1, 17.3]))[:, None]
    patched = patch < 0.15 * scene.road_wear
    shade = 0.7 + 0.5 * hash1(patch * 91.0)
    worn = torch.where(patched, worn * shade, worn)
    paint = torch.tensor([0.85, 0.85, 0.8]) * (1 - 0.5 * scene.road_wear
                                               * _value_noise(torch.cat([x, z], 1), 1.5)[:, None])
    return torch.where(_markings(points, scene)[:, None], torch.maximum(paint, worn), worn)


def albedo_of(points: torch.Tensor, normal: torch.Tensor, index: torch.Tensor,
              scene: StreetScene, tensors: SceneTensors) -> torch.Tensor:
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
    floor = 2.8 + 0.8 * hash1(variation * 7.0)
    in_window = ((torch.frac(along / spacing) - 0.5).abs() < 0.25) & \
        ((torch.frac(height / floor) - 0.55).abs() < 0.25) & (height > 2.5) & ~is_up
    glass = torch.tensor([0.12, 0.16, 0.22]) + 0.25 * scenesky_colour(scene)[None] * grain
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


def scenesky_colour(scene: StreetScene) -> torch.Tensor:
    """Mean sky colour (what windows reflect)."""
    return torch.from_numpy(((scene.sky_zenith + scene.sky_horizon) / 2).astype(np.float32))


def sky_colour(directions: torch.Tensor, scene: StreetScene) -> torch.Tensor:
    """Colour of rays that hit nothing: horizon to zenith, with clouds."""
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


def sunlight(points: torch.Tensor, normal: torch.Tensor, scene: StreetScene) -> torch.Tensor:
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
