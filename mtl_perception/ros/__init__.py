# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The ROS 2 layer: the only code that imports rclpy. This file imports nothing."""

#: The node's default name (both node classes, launch files, the demo's recorder).
NODE_NAME = 'mtl_perception'
