# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""What an importer learns from a foreign state dict before the weights are moved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ForeignModel:
    """A foreign network described in this project's terms.

    Attributes:
        layout: Importer name (``release``, ``hydranets``).
        num_classes: Width of its segmentation head.
        normals: Whether it has the surface-normals head.
        arch_kwargs: Options of ``build_model`` that reproduce its forward pass exactly.
        prefixes: ``(our key prefix, its key prefix)`` pairs covering every key.
    """

    layout: str
    num_classes: int
    normals: bool
    arch_kwargs: dict[str, Any]
    prefixes: list[tuple[str, str]]
