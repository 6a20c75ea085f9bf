# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Procedural layout of a straight street: the geometry and materials the renderer ray-casts.

World frame: x right, y up, z forward along the street; the road surface is ``y = 0``.
Every object is an axis-aligned box or a sphere, which keeps ray casting a handful of
vectorised tensor operations while still giving facades with gaps, parked and moving cars,
people, poles, trees and hedges at random positions, sizes and colours.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from mtl_perception.labels import get_class_set
import numpy as np

CLASS_SET = get_class_set('synthetic')
_CLASS_ID = {name: index for index, name in enumerate(CLASS_SET.names)}


class Material(IntEnum):
    """Procedural textures the renderer knows how to shade."""

    ASPHALT = 0
    PAVEMENT = 1
    FACADE = 2
    METAL = 3
    FOLIAGE = 4
    BARK = 5
    CLOTH = 6
    SKIN = 7
    PAINT = 8
    GLASS = 9


@dataclass
class Primitives:
    """Objects of one shape with their class id, material and base colour per object."""

    geometry: np.ndarray
    class_ids: np.ndarray
    materials: np.ndarray
    colours: np.ndarray

    @classmethod
    def from_rows(cls, rows: list[tuple], width: int) -> Primitives:
        """Stack ``(geometry, class name, material, colour)`` rows into arrays."""
        if not rows:
            return cls(np.zeros((0, width), np.float32), np.zeros(0, np.int64),
                       np.zeros(0, np.int64), np.zeros((0, 3), np.float32))
        geometry, names, materials, colours = zip(*rows)
        return cls(np.asarray(geometry, np.float32),
                   np.asarray([_CLASS_ID[n] for n in names], np.int64),
                   np.asarray(materials, np.int64), np.asarray(colours, np.float32))

    def __len__(self) -> int:
        return len(self.class_ids)


@dataclass
class StreetScene:
    """A street and its lighting.

    Attributes:
        road_half_width: Half the carriageway width in metres; the road is ``|x| < this``.
        ego_x: Centre of the lane the camera drives in (kept free of cars along the drive).
        lane_width: Spacing of the dashed lane markings.
        dashed_lines: ``x`` of the dashed markings between lanes.
        solid_lines: ``x`` of the solid markings along the parking strips.
        ambient: Share of light that does not come from the sun.
        boxes: Rows ``(xmin, ymin, zmin, xmax, ymax, zmax)``.
        spheres: Rows ``(x, y, z, radius)``.
        asphalt: Base colour of the road.
        sun: Unit vector towards the sun.
        sky_zenith: Sky colour straight up; ``sky_horizon`` at the horizon.
        sky_horizon: Sky colour at the horizon (also the haze colour).
        haze_distance: Metres over which distant surfaces fade halfway into the haze.
        sun_colour: Colour of direct sunlight (warmer when the sun is low).
        road_wear: How much the asphalt varies: worn tyre tracks, stains, repair patches (0-1).
        shadow_cover: Share of the ground in the shade of things off-screen (0-1).
        texture_contrast: Strength of material grain and stains on every surface.
        cloud_cover: Share of the sky covered by clouds (0-1).
    """

    road_half_width: float
    ego_x: float
    lane_width: float
    dashed_lines: np.ndarray
    solid_lines: np.ndarray
    ambient: float
    boxes: Primitives
    spheres: Primitives
    asphalt: np.ndarray
    sun: np.ndarray
    sky_zenith: np.ndarray
    sky_horizon: np.ndarray
    haze_distance: float
    sun_colour: np.ndarray
    road_wear: float
    shadow_cover: float
    texture_contrast: float
    cloud_cover: float


def _box(centre_x: float, bottom: float, centre_z: float, width: float, height: float,
         length: float) -> tuple[float, ...]:
    half_w, half_l = width / 2, length / 2
    return (centre_x - half_w, bottom, centre_z - half_l,
            centre_x + half_w, bottom + height, centre_z + half_l)


def _grey(rng: np.random.Generator, low: float, high: float) -> np.ndarray:
    level = rng.uniform(low, high)
    return np.clip(level + rng.normal(0, 0.02, 3), 0, 1)


class _StreetBuilder:
    """Lays out one street from a random generator; ``build`` returns the scene."""

    def __init__(self, rng: np.random.Generator, drive_length: float) -> None:
        self.rng = rng
        self.drive_end = drive_length
        self.z_start, self.z_end = -20.0, drive_length + 150.0
        self.boxes: list[tuple] = []
        self.spheres: list[tuple] = []
        self.road_half_width = float(rng.uniform(3.5, 7.5))
        self.lane_width = float(rng.choice([3.0, 3.25, 3.5]))
        self.curb = float(rng.uniform(0.1, 0.2))
        self.sidewalk_width = float(rng.uniform(2.0, 5.0))

    @property
    def facade_x(self) -> float:
        return self.road_half_width + self.sidewalk_width

    def _positions(self, mean_gap: float, jitter: float = 0.5) -> np.ndarray:
        count = int((self.z_end - self.z_start) / mean_gap) + 1
        steps = mean_gap * self.rng.uniform(1 - jitter, 1 + jitter, count)
        return self.z_start + np.cumsum(steps) - steps[0] * self.rng.uniform()

    def sidewalks(self) -> None:
        colour = _grey(self.rng, 0.45, 0.7) * np.array([1.0, 0.97, 0.93])
        far = self.facade_x + 60.0
        for side in (-1, 1):
            x0, x1 = sorted((side * self.road_half_width, side * far))
            self.boxes.append(((x0, -1.0, self.z_start - 50, x1, self.curb, self.z_end + 1000),
                               'sidewalk', Material.PAVEMENT, colour))

    def buildings(self, side: int) -> None:
        z = self.z_start - 20
        while z < self.z_end:
            length = self.rng.uniform(8, 30)
            if self.rng.uniform() < 0.2:
                self.vegetation_gap(side, z, length)
            else:
                setback = self.rng.uniform(0, 2.5)
                depth = self.rng.uniform(8, 20)
                x_near = side * (self.facade_x + setback)
                x0, x1 = sorted((x_near, x_near + side * depth))
                height = self.rng.uniform(5, 25)
                tint = self.rng.uniform(0.25, 0.85) * self.rng.uniform(0.8, 1.0, 3)
                self.boxes.append(((x0, self.curb, z, x1, self.curb + height, z + length),
                                   'building', Material.FACADE, tint))
            z += length + self.rng.uniform(0, 6) * (self.rng.uniform() < 0.4)
        for _ in range(int((self.z_end - self.z_start) / 40) + 6):
            x_near = side * (self.facade_x + self.rng.uniform(25, 45))
            x0, x1 = sorted((x_near, x_near + side * 15))
            z0 = self.rng.uniform(self.z_start - 20, self.z_end)
            tint = self.rng.uniform(0.3, 0.8) * self.rng.uniform(0.8, 1.0, 3)
            self.boxes.append(((x0, 0, z0, x1, self.rng.uniform(10, 40), z0 + 30),
                               'building', Material.FACADE, tint))

    def vegetation_gap(self, side: int, z: float, length: float) -> None:
        x = side * (self.facade_x + self.rng.uniform(0.5, 2))
        height = self.rng.uniform(0.8, 2.5)
        x0, x1 = sorted((x, x + side * self.rng.uniform(1, 3)))
        self.boxes.append(((x0, self.curb, z, x1, self.curb + height, z + length),
                           'vegetation', Material.FOLIAGE, self._leaf_colour()))
        for tree_z in np.arange(z + 3, z + length, self.rng.uniform(4, 8)):
            self.tree(x + side * self.rng.uniform(2, 6), tree_z)

    def _leaf_colour(self) -> np.ndarray:
        return np.array([self.rng.uniform(0.15, 0.35), self.rng.uniform(0.35, 0.6),
                         self.rng.uniform(0.05, 0.2)])

    def tree(self, x: float, z: float) -> None:
        trunk_height = self.rng.uniform(2, 4)
        radius = self.rng.uniform(1.2, 3.0)
        self.boxes.append((_box(x, self.curb, z, 0.3, trunk_height + radius * 0.5, 0.3),
                           'vegetation', Material.BARK, np.array([0.3, 0.22, 0.15])))
        self.spheres.append(((x, self.curb + trunk_height + radius * 0.8, z, radius),
                             'vegetation', Material.FOLIAGE, self._leaf_colour()))

    def street_furniture(self, side: int) -> None:
        edge = side * (self.road_half_width + self.rng.uniform(0.4, 0.9))
        for z in self._positions(self.rng.uniform(15, 40)):
            kind = self.rng.uniform()
            if kind < 0.55:
                height = self.rng.uniform(3, 8)
                metal = _grey(self.rng, 0.3, 0.6)
                self.boxes.append((_box(edge, self.curb, z, 0.15, height, 0.15),
                                   'pole', Material.METAL, metal))
                if self.rng.uniform() < 0.5:
                    arm = self.rng.uniform(0.8, 2.0)
                    x0, x1 = sorted((edge, edge - side * arm))
                    self.boxes.append(((x0, self.curb + height - 0.2, z - 0.1, x1,
                                        self.curb + height, z + 0.1),
                                       'pole', Material.METAL, metal))
                else:
                    self.boxes.append((_box(edge, self.curb + height - 0.9, z, 0.7, 0.7, 0.06),
                                       'pole', Material.PAINT, self.rng.uniform(0.2, 0.9, 3)))
            else:
                self.tree(edge + side * self.rng.uniform(0, 1), z)

    def people(self, side: int) -> None:
        for z in self._positions(self.rng.uniform(6, 25), jitter=0.9):
            x = side * (self.road_half_width + self.rng.uniform(0.8, self.sidewalk_width - 0.3))
            height = self.rng.uniform(1.5, 1.9)
            width = self.rng.uniform(0.4, 0.55)
            legs = height * 0.47
            self.boxes.append((_box(x, self.curb, z, width * 0.8, legs, 0.25), 'person',
                               Material.CLOTH, self.rng.uniform(0.05, 0.5, 3)))
            self.boxes.append((_box(x, self.curb + legs, z, width, height * 0.4, 0.3), 'person',
                               Material.CLOTH, self.rng.uniform(0.05, 0.95, 3)))
            skin = np.array([0.9, 0.7, 0.55]) * self.rng.uniform(0.4, 1.0)
            self.spheres.append(((x, self.curb + height * 0.93, z, height * 0.07), 'person',
                                 Material.SKIN, skin))

    def car(self, x: float, z: float) -> None:
        length = self.rng.uniform(3.8, 4.8)
        width = self.rng.uniform(1.6, 1.9)
        body = self.rng.uniform(0.35, 0.6)
        paint = self.rng.uniform(0.05, 0.9, 3)
        if self.rng.uniform() < 0.3:
            paint = np.full(3, self.rng.choice([0.08, 0.85]))
        self.boxes.append((_box(x, 0.25, z, width, body + 0.1, length), 'car', Material.PAINT,
                           paint))
        for axle in (-0.32, 0.32):
            self.boxes.append((_box(x, 0.0, z + axle * length, width * 0.96, 0.35, 0.6),
                               'car', Material.METAL, np.full(3, 0.05)))
        cabin = self.rng.uniform(0.4, 0.55)
        self.boxes.append((_box(x, 0.35 + body, z - length * 0.05, width * 0.9, cabin,
                                length * self.rng.uniform(0.45, 0.6)),
                           'car', Material.GLASS, paint))

    def traffic(self) -> None:
        for side in (-1, 1):
            parked_x = side * (self.road_half_width - 1.1)
            for z in self._positions(self.rng.uniform(6, 20), jitter=0.6):
                if self.rng.uniform() < 0.6:
                    self.car(parked_x, z)
        for lane_x in self.lane_centres[:-1]:
            for z in self._positions(self.rng.uniform(15, 45), jitter=0.8):
                self.car(lane_x + self.rng.uniform(-0.3, 0.3), z)
        ahead = self.drive_end + self.rng.uniform(6, 40)
        self.car(self.ego_x + self.rng.uniform(-0.3, 0.3), ahead)

    @property
    def lane_centres(self) -> np.ndarray:
        """Lane centres between the parking strips; the last one is the ego lane."""
        usable = 2 * (self.road_half_width - 2.2)
        count = max(1, int(usable / self.lane_width))
        return (np.arange(count) - (count - 1) / 2) * self.lane_width

    @property
    def ego_x(self) -> float:
        return float(self.lane_centres[-1])

    def build(self) -> StreetScene:
        self.sidewalks()
        for side in (-1, 1):
            self.buildings(side)
            self.street_furniture(side)
            self.people(side)
        self.traffic()
        sun = np.array([self.rng.uniform(-1, 1), self.rng.uniform(0.3, 1.5),
                        self.rng.uniform(-1, 1)])
        horizon = np.array([0.75, 0.8, 0.88]) * self.rng.uniform(0.8, 1.1, 3)
        zenith = np.array([0.3, 0.5, 0.85]) * self.rng.uniform(0.6, 1.2, 3)
        if self.rng.uniform() < 0.3:
            zenith = horizon * self.rng.uniform(0.7, 0.95)
        sun = sun / np.linalg.norm(sun)
        warmth = 1.0 - float(np.clip(sun[1], 0, 1))
        sun_colour = np.array([1.0, 1.0 - 0.15 * warmth, 1.0 - 0.35 * warmth])
        return StreetScene(
            road_half_width=self.road_half_width, ego_x=self.ego_x,
            lane_width=self.lane_width,
            dashed_lines=self.lane_centres[1:] - self.lane_width / 2,
            solid_lines=self.lane_centres[[0, -1]] + np.array([-0.5, 0.5]) * self.lane_width,
            ambient=float(self.rng.uniform(0.3, 0.6)),
            boxes=Primitives.from_rows(self.boxes, 6),
            spheres=Primitives.from_rows(self.spheres, 4),
            asphalt=_grey(self.rng, 0.18, 0.42), sun=sun,
            sky_zenith=np.clip(zenith, 0, 1), sky_horizon=np.clip(horizon, 0, 1),
            haze_distance=float(self.rng.uniform(60, 250)), sun_colour=sun_colour,
            road_wear=float(self.rng.uniform(0, 1)),
            shadow_cover=float(self.rng.choice([0.0, self.rng.uniform(0.1, 0.5)])),
            texture_contrast=float(self.rng.uniform(0.5, 1.5)),
            cloud_cover=float(self.rng.uniform(0, 0.8)))


def generate_street(seed: int, drive_length: float = 0.0) -> StreetScene:
    """Lay out a random street for a camera driving from ``z = 0`` to ``z = drive_length``.

    Args:
        seed: Any integer; the same seed always gives the same street.
        drive_length: Metres the camera will drive; the ego lane stays free of cars there.
    """
    return _StreetBuilder(np.random.default_rng(seed), float(drive_length)).build()
