# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Procedural street scenes: the embedded default data for training, tests and the demo.

``render_frame(seed)`` gives one random frame; ``render_drive(seed, frames)`` a forward drive
at 10 Hz through one street (KITTI's camera rate). Labels use the ``synthetic`` class set of
:mod:`mtl_perception.labels` (Cityscapes names and colours); depth is metric z-depth.
"""

from __future__ import annotations

from collections.abc import Iterator

from mtl_perception.geometry import Intrinsics
from mtl_perception.synthetic.renderer import CameraPose, render, SyntheticFrame
from mtl_perception.synthetic.scene import CLASS_SET, generate_street, StreetScene
from mtl_perception.synthetic.sensor import SensorResponse
import numpy as np
import torch

DEFAULT_SIZE = (192, 640)
# Bumped whenever the same seed renders differently, so that caches of older frames are not
# mistaken for current ones.
RENDERER_VERSION = 2
FRAME_RATE_HZ = 10.0
DRIVE_SPEED = 8.0  # metres per second

__all__ = ['CLASS_SET', 'CameraPose', 'DEFAULT_SIZE', 'FOCAL_RANGE', 'FRAME_RATE_HZ',
           'RENDERER_VERSION', 'SensorResponse', 'StreetScene', 'SyntheticFrame',
           'DRIVE_SPEED', 'drive_poses', 'drive_scene', 'generate_street',
           'kitti_like_intrinsics', 'random_intrinsics', 'render', 'render_drive',
           'render_frame']
# Focal length as a share of the image width: KITTI's is 0.581 (81 degrees horizontally);
# frames without given intrinsics draw from this range (76 to 86 degrees). Kept narrow on
# purpose: one image cannot tell a longer lens from a nearer scene, so metric depth is only
# learnable for focal lengths near the ones trained on (docs/synthetic.md).
FOCAL_RANGE = (0.53, 0.64)


def kitti_like_intrinsics(width: int = DEFAULT_SIZE[1], height: int = DEFAULT_SIZE[0]
                          ) -> Intrinsics:
    """Intrinsics with the KITTI colour cameras' field of view, for any image size.

    KITTI's rectified cameras have ``fx = fy ~ 721 px`` at 1242 px width (81 degrees
    horizontal); the principal point sits at 50 % of the width and 46 % of the height.
    """
    focal = 0.581 * width
    return Intrinsics(focal, focal, (width - 1) / 2, 0.46 * height, width, height)


def random_intrinsics(rng: np.random.Generator, width: int, height: int) -> Intrinsics:
    """Draw a camera of focal length in ``FOCAL_RANGE`` with a slightly off-centre axis."""
    focal = rng.uniform(*FOCAL_RANGE) * width
    return Intrinsics(focal, focal, (width - 1) / 2 + rng.uniform(-0.02, 0.02) * width,
                      rng.uniform(0.42, 0.52) * height, width, height)


def _random_pose(rng: np.random.Generator, scene: StreetScene, z: float) -> CameraPose:
    """Draw a mounting as on a car (1.2-2.0 m up, 4 in 5) or a small robot (0.5-1.2 m)."""
    height = rng.uniform(1.2, 2.0) if rng.uniform() < 0.8 else rng.uniform(0.5, 1.2)
    return CameraPose(
        x=scene.ego_x + rng.uniform(-0.5, 0.5), height=height, z=z,
        yaw=rng.uniform(-0.06, 0.06), pitch=rng.uniform(-0.05, 0.10),
        roll=rng.uniform(-0.03, 0.03))


def render_frame(seed: int, *, width: int = DEFAULT_SIZE[1], height: int = DEFAULT_SIZE[0],
                 intrinsics: Intrinsics | None = None, max_depth: float = 80.0
                 ) -> SyntheticFrame:
    """Render one frame of a random street, identical for the same arguments.

    Args:
        seed: Chooses the street, the camera (placement, focal length, response) and noise.
        width: Image width in pixels (ignored when ``intrinsics`` is given).
        height: Image height in pixels (ignored when ``intrinsics`` is given).
        intrinsics: Camera; a random focal length in ``FOCAL_RANGE`` by default.
        max_depth: Depth beyond this is marked invalid.
    """
    rng = np.random.default_rng([seed, 1])
    scene = generate_street(seed)
    pose = _random_pose(rng, scene, 0.0)
    intrinsics = intrinsics or random_intrinsics(rng, width, height)
    return render(scene, pose, intrinsics, max_depth=max_depth, noise_seed=seed)


def drive_scene(seed: int, frames: int, *, speed: float = DRIVE_SPEED) -> StreetScene:
    """Return the street of :func:`render_drive`, long enough for ``frames`` at ``speed``."""
    return generate_street(seed, drive_length=speed / FRAME_RATE_HZ * frames)


def drive_poses(seed: int, frames: int, *, speed: float = DRIVE_SPEED,
                camera_offset: float = 0.0) -> list[CameraPose]:
    """Camera poses of :func:`render_drive`, one per frame, without rendering anything."""
    scene_rng = np.random.default_rng([seed, 1])
    step = speed / FRAME_RATE_HZ
    scene = drive_scene(seed, frames, speed=speed)
    mounting = _random_pose(scene_rng, scene, 0.0)
    poses = []
    for index in range(frames):
        sway = 0.2 * np.sin(index * 0.15)
        yaw = mounting.yaw * 0.3 - 0.03 * np.cos(index * 0.15)
        poses.append(CameraPose(x=mounting.x + sway + camera_offset * np.cos(yaw),
                                height=mounting.height,
                                z=index * step + camera_offset * np.sin(yaw), yaw=yaw,
                                pitch=mounting.pitch, roll=mounting.roll))
    return poses


def render_drive(seed: int, frames: int, *, speed: float = DRIVE_SPEED,
                 width: int = DEFAULT_SIZE[1], height: int = DEFAULT_SIZE[0],
                 intrinsics: Intrinsics | None = None, max_depth: float = 80.0,
                 camera_offset: float = 0.0) -> Iterator[SyntheticFrame]:
    """Yield ``frames`` frames of a drive down one street at ``FRAME_RATE_HZ``.

    The camera keeps its mounting (height, pitch, roll) and response (exposure, white balance)
    and drives straight ahead at
    ``speed`` metres per second with a slight steering sway, as a car-mounted camera does.
    ``camera_offset`` moves the camera sideways (metres, to the right) on the same rig, e.g.
    by KITTI's 0.54 m stereo baseline for the right camera.
    """
    intrinsics = intrinsics or kitti_like_intrinsics(width, height)
    scene = drive_scene(seed, frames, speed=speed)
    sensor = SensorResponse.random(torch.Generator().manual_seed(seed))
    for index, pose in enumerate(drive_poses(seed, frames, speed=speed,
                                             camera_offset=camera_offset)):
        yield render(scene, pose, intrinsics, max_depth=max_depth,
                     noise_seed=seed * 100003 + index, sensor=sensor)
