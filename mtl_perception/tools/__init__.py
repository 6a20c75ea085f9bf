# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Command-line tools built on the core package."""
