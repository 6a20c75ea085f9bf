# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The ROS 2 layer: the only subpackage that imports rclpy and ROS message types."""
