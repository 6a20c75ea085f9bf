# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The teacher contract: a batch of RGB frames in, per-frame outputs at each frame's own size.

One interface per task (:class:`SegmentationTeacher`, :class:`DepthTeacher`), one module per
model family behind it (``hf_segmentation``, ``hf_depth``, ``checkpoint``). A teacher records
what it is (``describe()``: its source and a hash of its configuration and weights) so that
the manifest names exactly which model made the pseudo-labels.
"""

from __future__ import annotations

from dataclasses import dataclass
import hashlib
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass
class TeacherLabels:
    """One frame's segmentation by a teacher, at the frame's size.

    Attributes:
        ids: ``(H, W)`` teacher class ids (int64), the argmax of the upsampled logits.
        confidence: ``(H, W)`` float32 softmax probability of that class.
    """

    ids: np.ndarray
    confidence: np.ndarray


@dataclass
class TeacherDepth:
    """One frame's depth by a teacher, at the frame's size.

    Attributes:
        values: ``(H, W)`` float32: metres for a metric teacher, else relative inverse depth
            (larger is nearer, affine-invariant: needs alignment against metric anchors).
        metric: Whether ``values`` are metres.
    """

    values: np.ndarray
    metric: bool


@runtime_checkable
class SegmentationTeacher(Protocol):
    """Labels frames with its own class set (``class_names``)."""

    class_names: list[str]

    def segment(self, frames: list[np.ndarray]) -> list[TeacherLabels]:
        """Segment ``HxWx3`` uint8 RGB frames (any sizes); one result per frame, same size."""

    def describe(self) -> dict[str, Any]:
        """Source, family and content hash, for the manifest."""


@runtime_checkable
class DepthTeacher(Protocol):
    """Predicts metric or relative depth."""

    metric: bool

    def estimate(self, frames: list[np.ndarray]) -> list[TeacherDepth]:
        """Estimate depth of ``HxWx3`` uint8 RGB frames; one result per frame, same size."""

    def describe(self) -> dict[str, Any]:
        """Source, family and content hash, for the manifest."""


def folder_sha256(folder: Path) -> str:
    """SHA-256 over the names and bytes of every file in ``folder`` (a model's identity)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob('*') if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        with path.open('rb') as stream:
            for block in iter(lambda: stream.read(1 << 20), b''):
                digest.update(block)
    return digest.hexdigest()
