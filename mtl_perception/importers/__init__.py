# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Importers of checkpoint layouts written by other code: one module per layout.

Each importer maps a foreign state dict onto this project's network (built with the options
the foreign model needs, recorded in ``arch_kwargs``) and writes a normal checkpoint. This
package file imports nothing, so that the model can use :mod:`.mobilenet` without a cycle.
"""
