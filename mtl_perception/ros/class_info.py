# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""What the class ids on ``~/segmentation`` mean, for other nodes: one YAML document."""

from __future__ import annotations

from pathlib import Path

from mtl_perception.checkpoint import ModelMetadata
import yaml


def class_info_yaml(metadata: ModelMetadata, model_path: str) -> str:
    """Describe the model's classes (id, name, RGB colour) and where the model comes from.

    Published latched on ``~/class_info`` so that a node that starts later (a mapper, a
    planner, rviz tooling) learns what label 13 is without reading the checkpoint.
    """
    provenance = {key: metadata.created_by[key] for key in ('command', 'importer', 'source')
                  if key in metadata.created_by}
    document = {
        'model': Path(model_path).name,
        'dataset': metadata.dataset,
        'provenance': provenance,
        'depth_range_m': list(metadata.depth_range),
        'classes': [{'id': index, 'name': name, 'color': [int(c) for c in colour]}
                    for index, (name, colour) in enumerate(zip(metadata.class_names,
                                                               metadata.palette))],
    }
    return yaml.safe_dump(document, sort_keys=False)
