# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Errors of the training subpackage."""

from mtl_perception.errors import MtlPerceptionError


class DatasetError(MtlPerceptionError):
    """A dataset file is missing, unreadable or not in the expected layout."""


class TrainingConfigError(MtlPerceptionError, ValueError):
    """A training or evaluation configuration is invalid."""
