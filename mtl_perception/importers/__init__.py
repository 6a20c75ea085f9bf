# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Importers of checkpoint layouts written by other code: one module per layout.

Each importer maps a foreign state dict onto this project's network (built with the options
the foreign model needs, recorded in ``arch_kwargs``) and writes a normal checkpoint;
:mod:`.backbone` loads ImageNet encoder files for training. The arrow runs importers -> model,
never back.
"""
