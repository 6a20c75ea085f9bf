# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Class sets and their palettes: the single home of every class list in the project.

Class ids are positions in ``ClassSet.names``; 255 is the ignore id in label images. Colours
follow the Cityscapes convention wherever a class has a Cityscapes counterpart, so that
the outputs of models trained on different data look alike in rviz2.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from mtl_perception.errors import ModelConfigError
import numpy as np

IGNORE_ID = 255

_CITYSCAPES_COLOURS: dict[str, tuple[int, int, int]] = {
    'road': (128, 64, 128),
    'sidewalk': (244, 35, 232),
    'building': (70, 70, 70),
    'wall': (102, 102, 156),
    'fence': (190, 153, 153),
    'pole': (153, 153, 153),
    'traffic light': (250, 170, 30),
    'traffic sign': (220, 220, 0),
    'vegetation': (107, 142, 35),
    'terrain': (152, 251, 152),
    'sky': (70, 130, 180),
    'person': (220, 20, 60),
    'rider': (255, 0, 0),
    'car': (0, 0, 142),
    'truck': (0, 0, 70),
    'bus': (0, 60, 100),
    'train': (0, 80, 100),
    'motorcycle': (0, 0, 230),
    'bicycle': (119, 11, 32),
}

CITYSCAPES_LABEL_IDS: dict[int, str] = {
    7: 'road', 8: 'sidewalk', 11: 'building', 12: 'wall', 13: 'fence', 17: 'pole',
    19: 'traffic light', 20: 'traffic sign', 21: 'vegetation', 22: 'terrain', 23: 'sky',
    24: 'person', 25: 'rider', 26: 'car', 27: 'truck', 28: 'bus', 31: 'train',
    32: 'motorcycle', 33: 'bicycle',
}
"""Cityscapes ``labelIds`` (as stored by KITTI semantics) of the 19 evaluated classes."""

_NYU40_NAMES = (
    'wall', 'floor', 'cabinet', 'bed', 'chair', 'sofa', 'table', 'door', 'window',
    'bookshelf', 'picture', 'counter', 'blinds', 'desk', 'shelves', 'curtain', 'dresser',
    'pillow', 'mirror', 'floor mat', 'clothes', 'ceiling', 'books', 'refrigerator',
    'television', 'paper', 'towel', 'shower curtain', 'box', 'whiteboard', 'person',
    'night stand', 'toilet', 'sink', 'lamp', 'bathtub', 'bag', 'otherstructure',
    'otherfurniture', 'otherprop',
)

_KITTI6_NAMES = ('sky', 'building', 'road', 'sidewalk', 'vegetation', 'car')

_SYNTHETIC_NAMES = (
    'road', 'sidewalk', 'building', 'pole', 'vegetation', 'sky', 'person', 'car',
)


@dataclass(frozen=True)
class ClassSet:
    """An ordered list of class names with one RGB colour per class."""

    name: str
    names: tuple[str, ...]
    colours: tuple[tuple[int, int, int], ...]

    def __post_init__(self) -> None:
        if len(self.names) != len(self.colours):
            raise ModelConfigError(
                f'class set {self.name!r} has {len(self.names)} names but '
                f'{len(self.colours)} colours')
        if len(self.names) > IGNORE_ID:
            raise ModelConfigError(
                f'class set {self.name!r} has {len(self.names)} classes; ids must stay '
                f'below the ignore id {IGNORE_ID}')

    @property
    def num_classes(self) -> int:
        """Number of classes (the segmentation head's output channels)."""
        return len(self.names)

    @property
    def palette(self) -> np.ndarray:
        """Colours as a ``(num_classes, 3)`` uint8 array, indexable by class id."""
        return np.asarray(self.colours, dtype=np.uint8).reshape(-1, 3)


def voc_palette(count: int) -> tuple[tuple[int, int, int], ...]:
    """Return the PASCAL VOC bit-interleaved palette: distinct, deterministic colours."""
    colours = []
    for index in range(count):
        red = green = blue = 0
        value = index + 1
        for shift in range(7, -1, -1):
            red |= ((value >> 0) & 1) << shift
            green |= ((value >> 1) & 1) << shift
            blue |= ((value >> 2) & 1) << shift
            value >>= 3
        colours.append((red, green, blue))
    return tuple(colours)


def _cityscapes_coloured(name: str, names: tuple[str, ...]) -> ClassSet:
    return ClassSet(name, names, tuple(_CITYSCAPES_COLOURS[n] for n in names))


CLASS_SETS: dict[str, ClassSet] = {
    'nyuv2_40': ClassSet('nyuv2_40', _NYU40_NAMES, voc_palette(len(_NYU40_NAMES))),
    'kitti_6': _cityscapes_coloured('kitti_6', _KITTI6_NAMES),
    'cityscapes_19': _cityscapes_coloured('cityscapes_19', tuple(_CITYSCAPES_COLOURS)),
    'synthetic': _cityscapes_coloured('synthetic', _SYNTHETIC_NAMES),
}


def get_class_set(name: str) -> ClassSet:
    """Look up a class set by name.

    Raises:
        ModelConfigError: If the name is unknown; the message lists the known names.
    """
    try:
        return CLASS_SETS[name]
    except KeyError:
        raise ModelConfigError(
            f'unknown class set {name!r}; choose one of {sorted(CLASS_SETS)}') from None


def write_palette_csv(names: tuple[str, ...] | list[str], palette: np.ndarray,
                      path: str | Path) -> Path:
    """Write a palette as ``name,red,green,blue,alpha,id`` rows (the Kimera-Semantics format).

    Returns:
        The path written.
    """
    path = Path(path)
    with path.open('w', newline='') as stream:
        writer = csv.writer(stream)
        writer.writerow(('name', 'red', 'green', 'blue', 'alpha', 'id'))
        for class_id, (name, colour) in enumerate(zip(names, palette)):
            writer.writerow((name, *(int(c) for c in colour), 255, class_id))
    return path


def cityscapes_lookup(class_set: ClassSet) -> np.ndarray:
    """256-entry table from Cityscapes label ids to ``class_set`` ids by class name.

    Classes the set does not name map to ``IGNORE_ID``, so they are left out of training
    and evaluation rather than counted as something they are not.
    """
    table = np.full(256, IGNORE_ID, dtype=np.uint8)
    for label_id, name in CITYSCAPES_LABEL_IDS.items():
        if name in class_set.names:
            table[label_id] = class_set.names.index(name)
    return table
