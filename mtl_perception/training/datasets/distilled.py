# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""A finished ``mtl_distill`` output as training data, checked against the student's classes.

The output's ``manifest.json`` names the class set its masks use; a student of another class
set would learn wrong classes without a word, so that is refused. ``split`` takes a fixed,
interleaved share of the frames (every ``VAL_EVERY``-th frame is validation), so that
validation frames come from the whole drive and never from training.
"""

from __future__ import annotations

from collections.abc import Callable
import json
from pathlib import Path

from mtl_perception.errors import DatasetError
from mtl_perception.labels import ClassSet
from mtl_perception.training.datasets.nyud import NyudDataset
from mtl_perception.training.datasets.sample import Sample
from torch.utils.data import Subset

VAL_EVERY = 10
SPLITS = ('train', 'val', 'all')


def distilled_dataset(root: str | Path, class_set: ClassSet, *, split: str = 'all',
                      transform: Callable[[Sample], Sample] | None = None) -> Subset:
    """Frames of a finished distillation at ``root``.

    Raises:
        DatasetError: No manifest (unfinished or not a distillation), another class set than
            the student's, an unknown split or an empty one.
    """
    root = Path(root)
    manifest_path = root / 'manifest.json'
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as error:
        raise DatasetError(f'{manifest_path}: no readable manifest ({error}); is the '
                           'distillation finished? (run the same mtl_distill command again)'
                           ) from None
    settings = manifest.get('settings', {})
    if settings.get('class_names') != list(class_set.names):
        raise DatasetError(f'{root} was distilled for class set {settings.get("classes")!r} '
                           f'but the model is trained on {class_set.name!r}; set '
                           f'model.class_set: {settings.get("classes")}')
    if split not in SPLITS:
        raise DatasetError(f'distilled split {split!r}: use one of {SPLITS}')
    data = NyudDataset(root, manifest.get('list', 'distilled_list.txt'),
                       num_classes=class_set.num_classes,
                       depth_scale=float(manifest['depth_scale']), transform=transform)
    indices = [i for i in range(len(data))
               if split == 'all' or (i % VAL_EVERY == VAL_EVERY - 1) == (split == 'val')]
    if not indices:
        raise DatasetError(f'{root}: the {split!r} split is empty ({len(data)} frames; '
                           f'validation takes every {VAL_EVERY}th)')
    return Subset(data, indices)
