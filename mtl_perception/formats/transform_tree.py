# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Rigid transforms as tf carries them: quaternions and a tree of frames to look paths up in.

``T_a_b`` (4x4) maps points in frame ``b`` to frame ``a``; a tf edge ``parent -> child``
holds the pose of ``child`` in ``parent``, which is ``T_parent_child``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def quaternion_matrix(x: float, y: float, z: float, w: float) -> np.ndarray:
    """3x3 rotation of a unit quaternion."""
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def matrix_quaternion(rotation: np.ndarray) -> tuple[float, float, float, float]:
    """Return the unit quaternion ``(x, y, z, w >= 0)`` of a 3x3 rotation matrix."""
    m = np.asarray(rotation, dtype=np.float64)
    # divide by the largest of the four components: the best conditioned choice
    squares = np.array([1 + m[0, 0] - m[1, 1] - m[2, 2], 1 - m[0, 0] + m[1, 1] - m[2, 2],
                        1 - m[0, 0] - m[1, 1] + m[2, 2], 1 + m[0, 0] + m[1, 1] + m[2, 2]])
    largest = int(np.argmax(squares))
    scale = 2 * math.sqrt(max(squares[largest], 1e-300))
    off_diagonal = {0: ((m[0, 1] + m[1, 0]), (m[0, 2] + m[2, 0]), (m[2, 1] - m[1, 2])),
                    1: ((m[0, 1] + m[1, 0]), (m[1, 2] + m[2, 1]), (m[0, 2] - m[2, 0])),
                    2: ((m[0, 2] + m[2, 0]), (m[1, 2] + m[2, 1]), (m[1, 0] - m[0, 1])),
                    3: ((m[2, 1] - m[1, 2]), (m[0, 2] - m[2, 0]), (m[1, 0] - m[0, 1]))}
    others = iter(value / scale for value in off_diagonal[largest])
    q = np.array([scale / 4 if index == largest else next(others) for index in range(4)])
    q /= np.linalg.norm(q)
    return tuple(float(v) for v in (q if q[3] >= 0 else -q))


class TransformTree:
    """Frames joined by rigid transforms: the transform between any two connected frames."""

    def __init__(self) -> None:
        self._edges: dict[str, list[tuple[str, np.ndarray]]] = {}

    def add_pose(self, parent: str, child: str, pose: np.ndarray) -> None:
        """Add ``parent -> child`` with the 4x4 pose of ``child`` in ``parent``."""
        parent, child = parent.lstrip('/'), child.lstrip('/')
        self._edges.setdefault(parent, []).append((child, pose))
        self._edges.setdefault(child, []).append((parent, np.linalg.inv(pose)))

    def add(self, parent: str, child: str, translation: Any, rotation: Any) -> None:
        """Add ``parent -> child`` from a tf ``Transform``'s translation and rotation."""
        pose = np.eye(4)
        pose[:3, :3] = quaternion_matrix(rotation.x, rotation.y, rotation.z, rotation.w)
        pose[:3, 3] = (translation.x, translation.y, translation.z)
        self.add_pose(parent, child, pose)

    @property
    def frames(self) -> set[str]:
        """Every frame named by an edge."""
        return set(self._edges)

    def lookup(self, target: str, source: str) -> np.ndarray | None:
        """Return the transform taking points in ``source`` to ``target`` (None: no path)."""
        target, source = target.lstrip('/'), source.lstrip('/')
        found = {target: np.eye(4)}
        queue = [target]
        while queue:
            frame = queue.pop(0)
            for neighbour, pose in self._edges.get(frame, []):
                if neighbour not in found:
                    found[neighbour] = found[frame] @ pose
                    queue.append(neighbour)
        return found.get(source)
