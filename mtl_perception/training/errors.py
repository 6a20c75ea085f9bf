# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Errors of the training subpackage (dataset errors are the core's ``DatasetError``)."""

from mtl_perception.errors import MtlPerceptionError


class TrainingConfigError(MtlPerceptionError, ValueError):
    """A training or evaluation configuration is invalid."""


class TeacherError(MtlPerceptionError):
    """A distillation teacher cannot be loaded or run; the message names it."""


class DistillError(MtlPerceptionError):
    """A distillation source or output is unusable (unreadable video, absent topic, ...)."""
