# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Distillation from a team's own unlabeled frames: sources, depth alignment, the run, output.

``mtl_distill --source ...`` (``training/distill.py``) drives :mod:`.command`.
"""
