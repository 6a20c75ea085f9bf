# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Domain errors of the ROS layer."""

from mtl_perception.errors import MtlPerceptionError


class ConversionError(MtlPerceptionError, ValueError):
    """A ROS message cannot be converted: the message names the field or encoding at fault."""


class SettingsError(MtlPerceptionError, ValueError):
    """A node parameter is of the wrong type, out of range or inconsistent with another."""
