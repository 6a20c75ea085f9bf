# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""KITTI OXTS (GPS/IMU) records and the devkit's poses from them.

::

    <drive>/oxts/data/<index:010d>.txt    30 space-separated values per file
    <drive>/oxts/timestamps.txt

The poses follow the KITTI devkit (``convertOxtsToPose``): latitude and longitude become
metres by a Mercator projection scaled by the cosine of the first record's latitude, the
orientation is ``Rz(yaw) Ry(pitch) Rx(roll)`` in an east-north-up frame, and the world
origin is the first pose's position (orientation kept, so the world's z stays up, as
pykitti and kitti2bag do).
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from pathlib import Path

from mtl_perception.errors import KittiLayoutError
from mtl_perception.formats.kitti_raw import read_stamps
import numpy as np

FIELDS = ('lat', 'lon', 'alt', 'roll', 'pitch', 'yaw', 'vn', 've', 'vf', 'vl', 'vu', 'ax',
          'ay', 'az', 'af', 'al', 'au', 'wx', 'wy', 'wz', 'wf', 'wl', 'wu', 'pos_accuracy',
          'vel_accuracy', 'navstat', 'numsats', 'posmode', 'velmode', 'orimode')
EARTH_RADIUS_M = 6378137.0


@dataclass(frozen=True)
class OxtsRecord:
    """One OXTS packet: every field of the devkit's ``dataformat.txt`` by name."""

    values: tuple[float, ...]

    def __getattr__(self, name: str) -> float:
        """Return a field by its devkit name (``lat``, ``vf``, ``wu``, ...)."""
        try:
            return self.values[FIELDS.index(name)]
        except ValueError:
            raise AttributeError(name) from None

    def line(self) -> str:
        """Format as one line of an OXTS data file."""
        return ' '.join(repr(float(v)) if index < 25 else str(int(v))
                        for index, v in enumerate(self.values))


def parse_record(path: Path) -> OxtsRecord:
    """Read one OXTS data file.

    Raises:
        KittiLayoutError: Not 30 numbers; the message names the file.
    """
    try:
        values = tuple(float(v) for v in path.read_text().split())
    except ValueError:
        raise KittiLayoutError(f'{path}: not an OXTS record (non-numeric value)') from None
    if len(values) != len(FIELDS):
        raise KittiLayoutError(f'{path}: an OXTS record has {len(FIELDS)} values, found '
                               f'{len(values)}')
    return OxtsRecord(values)


def read_oxts(drive: Path) -> tuple[list[int], list[OxtsRecord]]:
    """Read a drive's OXTS records and stamps (ns).

    Raises:
        KittiLayoutError: Missing timestamps, count mismatch or a malformed record.
    """
    data = drive / 'oxts' / 'data'
    files = sorted(data.glob('*.txt'))
    if not files:
        raise KittiLayoutError(f'{data} holds no OXTS records')
    stamps = read_stamps(drive / 'oxts' / 'timestamps.txt', len(files), data)
    return stamps, [parse_record(path) for path in files]


def mercator_scale(latitude_deg: float) -> float:
    """Return the devkit's Mercator scale for a drive starting at ``latitude_deg``."""
    return math.cos(math.radians(latitude_deg))


def to_metres(latitude_deg: float, longitude_deg: float, scale: float) -> tuple[float, float]:
    """Scaled Mercator east and north in metres, as the devkit's ``latlonToMercator``."""
    east = scale * math.radians(longitude_deg) * EARTH_RADIUS_M
    north = scale * EARTH_RADIUS_M * math.log(math.tan(math.radians(90 + latitude_deg) / 2))
    return east, north


def to_degrees(east: float, north: float, scale: float) -> tuple[float, float]:
    """Inverse of :func:`to_metres`: latitude and longitude in degrees."""
    longitude = math.degrees(east / (scale * EARTH_RADIUS_M))
    latitude = 2 * math.degrees(math.atan(math.exp(north / (scale * EARTH_RADIUS_M)))) - 90
    return latitude, longitude


def rotation_rpy(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """``Rz(yaw) @ Ry(pitch) @ Rx(roll)``: OXTS orientation in east-north-up."""
    cr, sr = math.cos(roll), math.sin(roll)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cy, sy = math.cos(yaw), math.sin(yaw)
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    return rz @ ry @ rx


def imu_poses(records: list[OxtsRecord]) -> list[np.ndarray]:
    """World-from-IMU 4x4 poses; the world origin is the first record's position."""
    scale = mercator_scale(records[0].lat)
    poses, origin = [], None
    for record in records:
        east, north = to_metres(record.lat, record.lon, scale)
        position = np.array([east, north, record.alt])
        origin = position if origin is None else origin
        pose = np.eye(4)
        pose[:3, :3] = rotation_rpy(record.roll, record.pitch, record.yaw)
        pose[:3, 3] = position - origin
        poses.append(pose)
    return poses
