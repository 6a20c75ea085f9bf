# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""On-disk formats shared by the tools and training: image/mask/depth PNGs, KITTI raw."""
