# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""KITTI Velodyne scans: ``velodyne_points/data/<index:010d>.bin``.

Each file is a flat array of little-endian float32 ``(x, y, z, reflectance)`` per return, in
the ``velo_link`` frame (x forward, y left, z up, metres). The format has no header, so a
file cut short can only be told by its length not being a multiple of 16 bytes; a file cut
at a record boundary reads as a shorter scan (the count of returns is not stored anywhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mtl_perception.errors import KittiLayoutError
from mtl_perception.formats.kitti_raw import read_stamps
import numpy as np

RECORD_BYTES = 16
#: More returns than two HDL-64E revolutions hold is not a scan (checked before reading).
MAX_RETURNS = 2_000_000


def read_scan(path: Path) -> np.ndarray:
    """Read one scan as ``(N, 4)`` float32.

    Raises:
        KittiLayoutError: A length that is not whole records, an implausible size, or
            non-finite coordinates; the message names the file.
    """
    size = path.stat().st_size
    if size % RECORD_BYTES:
        raise KittiLayoutError(f'{path} is truncated: {size} bytes is not a whole number of '
                               f'{RECORD_BYTES}-byte (x, y, z, reflectance) records')
    if size // RECORD_BYTES > MAX_RETURNS:
        raise KittiLayoutError(f'{path} holds {size // RECORD_BYTES} returns, more than '
                               f'{MAX_RETURNS}: not a Velodyne scan')
    points = np.fromfile(path, dtype='<f4').reshape(-1, 4)
    if not np.isfinite(points).all():
        raise KittiLayoutError(f'{path} holds non-finite values: not a Velodyne scan')
    return points


def write_scan(path: Path, points: np.ndarray) -> None:
    """Write ``(N, 4)`` points as a KITTI ``.bin`` file."""
    np.ascontiguousarray(points, dtype='<f4').tofile(path)


@dataclass(frozen=True)
class VelodyneStream:
    """A drive's scans in order, with their stamps (ns)."""

    scans: list[Path]
    stamps: list[int]


def read_velodyne_stream(drive: Path) -> VelodyneStream | None:
    """List a drive's scans, or None when it has no ``velodyne_points`` folder.

    Every scan's length is checked here, before anything is written from the drive.

    Raises:
        KittiLayoutError: Timestamps missing or of another count, or a truncated scan.
    """
    folder = drive / 'velodyne_points'
    if not folder.is_dir():
        return None
    data = folder / 'data'
    scans = sorted(data.glob('*.bin'))
    if not scans:
        raise KittiLayoutError(f'{data} holds no .bin scans')
    for scan in scans:
        if scan.stat().st_size % RECORD_BYTES:
            read_scan(scan)
    return VelodyneStream(scans, read_stamps(folder / 'timestamps.txt', len(scans), data))
