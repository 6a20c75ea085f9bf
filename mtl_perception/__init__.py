# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Real-time joint semantic segmentation and metric depth for ROS 2."""

__version__ = '0.1.0'
