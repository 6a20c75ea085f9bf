# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Teachers for distillation: one interface per task, one module per model family.

``load_segmentation_teacher`` / ``load_depth_teacher`` take what the user named: a ``.pt``
checkpoint of this project (:mod:`.checkpoint`), or a ``transformers`` model folder or hub id
(:mod:`.hf_segmentation`, :mod:`.hf_depth`). Contract: :mod:`.base`.
"""

from __future__ import annotations

from pathlib import Path

from mtl_perception.training.teachers.base import DepthTeacher, SegmentationTeacher
from mtl_perception.training.teachers.checkpoint import CheckpointTeacher
from mtl_perception.training.teachers.hf_depth import HfDepthTeacher
from mtl_perception.training.teachers.hf_segmentation import HfSegmentationTeacher
import torch


def _is_checkpoint(spec: str) -> bool:
    return Path(spec).suffix.lower() == '.pt' and Path(spec).is_file()


def load_segmentation_teacher(spec: str, device: torch.device, *,
                              half: bool = False) -> SegmentationTeacher:
    """Load the segmentation teacher ``spec`` (checkpoint, model folder or hub id).

    Raises:
        TeacherError: It cannot be loaded; one line naming it.
        CheckpointError: A damaged checkpoint.
    """
    if _is_checkpoint(spec):
        return CheckpointTeacher(Path(spec), device)
    return HfSegmentationTeacher(spec, device, half=half)


def load_depth_teacher(spec: str, device: torch.device, *, half: bool = False,
                       metric: bool | None = None) -> DepthTeacher:
    """Load the depth teacher ``spec`` (checkpoint, model folder or hub id).

    Raises:
        TeacherError: It cannot be loaded; one line naming it.
        CheckpointError: A damaged checkpoint.
    """
    if _is_checkpoint(spec):
        return CheckpointTeacher(Path(spec), device)
    return HfDepthTeacher(spec, device, half=half, metric=metric)
