# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Datasets in the on-disk formats users already have, plus the synthetic default.

``build_dataset(spec)`` turns one entry of a configuration's ``data.train`` / ``data.val``
list into a dataset; several entries are concatenated, each sample carrying its task flags.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mtl_perception.labels import ClassSet
from mtl_perception.synthetic import CLASS_SET as SYNTHETIC_CLASSES
from mtl_perception.training.datasets.distilled import distilled_dataset
from mtl_perception.training.datasets.kitti import KittiDepthDataset, KittiSemanticsDataset
from mtl_perception.training.datasets.nyud import NyudDataset
from mtl_perception.training.datasets.sample import make_sample, Sample
from mtl_perception.training.datasets.synthetic import SyntheticDataset
from mtl_perception.training.errors import TrainingConfigError
from torch.utils.data import ConcatDataset, Dataset

__all__ = ['distilled_dataset', 'KittiDepthDataset', 'KittiSemanticsDataset', 'NyudDataset',
           'Sample', 'SyntheticDataset', 'build_dataset', 'build_datasets', 'make_sample']

Transform = Callable[[Sample], Sample] | None


def _synthetic(spec: dict[str, Any], transform: Transform, class_set: ClassSet) -> Dataset:
    if class_set.names != SYNTHETIC_CLASSES.names:
        raise TrainingConfigError(
            f'synthetic data is labelled with the "synthetic" class set '
            f'{SYNTHETIC_CLASSES.names}, not {class_set.names}')
    first, last = spec['seeds']
    size = spec.get('size', (192, 640))
    return SyntheticDataset(range(int(first), int(last)), size=size,
                            cache_dir=spec.get('cache_dir'), transform=transform)


def _nyud(spec: dict[str, Any], transform: Transform, class_set: ClassSet) -> Dataset:
    return NyudDataset(spec['root'], spec.get('list', 'train_list_depth.txt'),
                       num_classes=class_set.num_classes,
                       depth_scale=float(spec.get('depth_scale', 5000.0)), transform=transform)


def _distilled(spec: dict[str, Any], transform: Transform, class_set: ClassSet) -> Dataset:
    return distilled_dataset(spec['root'], class_set, split=spec.get('split', 'all'),
                             transform=transform)


def _kitti_depth(spec: dict[str, Any], transform: Transform, class_set: ClassSet) -> Dataset:
    return KittiDepthDataset(spec['raw_root'], spec['depth_root'],
                             split=spec.get('split', 'train'), camera=spec.get('camera', 2),
                             transform=transform)


def _kitti_semantics(spec: dict[str, Any], transform: Transform,
                     class_set: ClassSet) -> Dataset:
    return KittiSemanticsDataset(spec['root'], class_set, transform=transform)


_BUILDERS = {'synthetic': _synthetic, 'nyud': _nyud, 'kitti_depth': _kitti_depth,
             'kitti_semantics': _kitti_semantics, 'distilled': _distilled}
_REQUIRED = {'synthetic': ('seeds',), 'nyud': ('root',), 'kitti_depth': ('raw_root', 'depth_root'),
             'kitti_semantics': ('root',), 'distilled': ('root',)}


def build_dataset(spec: dict[str, Any], class_set: ClassSet,
                  transform: Transform = None) -> Dataset:
    """Build one dataset from ``{"type": ..., ...}``.

    Raises:
        TrainingConfigError: Unknown type or missing keys; the message lists what is needed.
    """
    kind = spec.get('type')
    if kind not in _BUILDERS:
        raise TrainingConfigError(
            f'unknown dataset type {kind!r}; choose one of {sorted(_BUILDERS)}')
    missing = [key for key in _REQUIRED[kind] if key not in spec]
    if missing:
        raise TrainingConfigError(f'dataset {kind!r} needs key(s) {missing}, got {spec}')
    return _BUILDERS[kind](spec, transform, class_set)


def build_datasets(specs: list[dict[str, Any]], class_set: ClassSet,
                   transform: Transform = None) -> Dataset:
    """Concatenate the datasets of several specs (one spec gives that dataset itself)."""
    if not specs:
        raise TrainingConfigError('no datasets configured')
    datasets = [build_dataset(spec, class_set, transform) for spec in specs]
    return datasets[0] if len(datasets) == 1 else ConcatDataset(datasets)
