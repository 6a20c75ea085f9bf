# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Training and evaluation of the multi-task network (imports no ROS).

Datasets yield samples with per-sample task masks so that depth-only and labels-only data
train together (the asymmetric annotations of Nekrasov et al., ICRA 2019).
"""
