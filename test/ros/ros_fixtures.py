# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Helpers the DDS test modules share: a DDS domain per module, a KITTI bag to play."""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import os
from pathlib import Path

from mtl_perception.synthetic.kitti_layout import write_kitti_drive
from mtl_perception.tools.kitti_to_bag import main as kitti_to_bag
import rclpy


#: Each DDS test module's offset into the domain ids, so that modules (and the bag player's
#: second domain) never share one within a run.
MODULE_OFFSETS = {'node': 0, 'bag_play': 7, 'camera_inputs': 17, 'demo': 31,
                  'lifecycle_node': 41, 'distilled_student': 53, 'node_edges': 61,
                  'executor': 67, 'node_normals': 73, 'launch_run': 89, 'cameras': 23,
                  'node_int8': 79}


def domain_id(module: str) -> int:
    """Return the DDS domain of a test module: 1..100, inside ROS's safe range (0-101)."""
    return 1 + (os.getpid() + MODULE_OFFSETS[module]) % 100


@contextlib.contextmanager
def ros_domain(domain_id: int) -> Iterator[str]:
    """Run rclpy in this process on DDS domain ``domain_id`` (children inherit it)."""
    os.environ['ROS_DOMAIN_ID'] = str(domain_id)
    rclpy.init()
    try:
        yield str(domain_id)
    finally:
        rclpy.shutdown()


def kitti_bag(root: Path, *, seed: int, frames: int, width: int, height: int,
              sensors: bool = False) -> tuple[Path, Path]:
    """Render a synthetic KITTI drive (no depth) and convert it; return the bag and drive.

    Camera only unless ``sensors`` (LiDAR, OXTS, tf) is asked for.
    """
    drive = write_kitti_drive(root, seed=seed, frames=frames, width=width, height=height,
                              with_depth=False, sensors=sensors, progress=False)
    assert kitti_to_bag([str(drive), str(root / 'bag'), '--no-progress']) == 0
    return root / 'bag', drive
