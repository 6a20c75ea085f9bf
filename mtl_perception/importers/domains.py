# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""What the foreign models were trained on: class sets, depth ranges, native frame sizes.

The paper's joint NYUDv2 + KITTI model has one 46-class head: the 40 NYUDv2 classes, then the
6 KITTI classes. Choosing a domain keeps that domain's rows of the head.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mtl_perception.errors import CheckpointImportError
from mtl_perception.labels import ClassSet, get_class_set


@dataclass(frozen=True)
class Domain:
    """One training domain of the published models.

    Attributes:
        name: ``nyud`` or ``kitti``.
        class_set: Name in :mod:`mtl_perception.labels`.
        depth_range: Metres the ground truth covers.
        input_size: ``(height, width)`` of the dataset's frames; the models run at it.
        joint_rows: Rows of this domain's classes in the 46-class joint head.
        paper: Figures the paper reports for the released two-task model of this domain.
    """

    name: str
    class_set: str
    depth_range: tuple[float, float]
    input_size: tuple[int, int]
    joint_rows: tuple[int, int]
    paper: dict[str, Any] = field(default_factory=dict)

    @property
    def classes(self) -> ClassSet:
        """The domain's classes and colours."""
        return get_class_set(self.class_set)


DOMAINS = {
    'nyud': Domain('nyud', 'nyuv2_40', (0.0, 10.0), (480, 640), (0, 40),
                   {'miou': 0.420, 'rmse_m': 0.56, 'data': 'NYUDv2 test set (654 images)'}),
    'kitti': Domain('kitti', 'kitti_6', (0.0, 80.0), (375, 1242), (40, 46),
                    {'miou': 0.87, 'rmse_m': 3.45,
                     'data': 'KITTI: 6-class semantics and depth benchmark'}),
}
JOINT_CLASSES = 46


def resolve_domain(num_classes: int, requested: str | None,
                   source: str) -> tuple[Domain, slice | None]:
    """Find the domain of a head with ``num_classes`` outputs, and the rows to keep of it.

    Raises:
        CheckpointImportError: A joint head without ``requested``, a request that contradicts
            the head, or a class count no published model has.
    """
    if requested is not None and requested not in DOMAINS:
        raise CheckpointImportError(
            f'unknown domain {requested!r}; choose one of {sorted(DOMAINS)}')
    if num_classes == JOINT_CLASSES:
        if requested is None:
            raise CheckpointImportError(
                f'{source}: a {JOINT_CLASSES}-class joint NYUDv2+KITTI model; choose which '
                'classes to keep with --domain nyud (40 indoor) or --domain kitti (6 street)')
        domain = DOMAINS[requested]
        return domain, slice(*domain.joint_rows)
    by_count = {d.classes.num_classes: d for d in DOMAINS.values()}
    if num_classes not in by_count:
        raise CheckpointImportError(
            f'{source}: a segmentation head of {num_classes} classes matches no published '
            f'model (40 NYUDv2, 6 KITTI, {JOINT_CLASSES} joint)')
    domain = by_count[num_classes]
    if requested is not None and requested != domain.name:
        raise CheckpointImportError(
            f'{source}: --domain {requested} does not fit a {num_classes}-class head, '
            f'which is {domain.name}')
    return domain, None
