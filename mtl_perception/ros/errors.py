# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Domain errors of the ROS layer."""

from mtl_perception.errors import MtlPerceptionError


class SettingsError(MtlPerceptionError, ValueError):
    """A node parameter is of the wrong type, out of range or inconsistent with another."""


class ModelLoadError(MtlPerceptionError):
    """The configured model cannot be loaded; the node cannot start."""


class ProcessBagError(MtlPerceptionError):
    """The input bag lacks what processing needs, or the output cannot be written."""


class NothingProducedError(ProcessBagError):
    """Not one image of the bag could be processed: there is no output to keep."""


class BagPlayError(MtlPerceptionError):
    """The bag cannot be played (missing, unreadable, unknown message type, no topics)."""


class RvizConfigError(MtlPerceptionError):
    """The topic prefix is not a valid absolute ROS name."""


class RosArgumentsError(MtlPerceptionError, ValueError):
    """A ``--ros-args`` argument is malformed (rclpy cannot be initialised with it)."""


class DemoError(MtlPerceptionError):
    """A process of the demo's chain failed (the node did not come up, the player failed)."""
