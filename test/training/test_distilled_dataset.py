# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""A finished distillation trains a student of its own class set, split into train and val."""

from __future__ import annotations

import json

from mtl_perception.errors import DatasetError
from mtl_perception.formats.images import depth_to_png, write_png
from mtl_perception.labels import get_class_set
from mtl_perception.training.datasets import build_dataset
import numpy as np
import pytest


def _distilled(root, count, classes='synthetic'):
    lines = []
    for index in range(count):
        name = f'f{index:03d}.png'
        write_png(root / 'rgb' / name, np.full((8, 12, 3), index, np.uint8))
        write_png(root / 'masks' / name, np.full((8, 12), index % 3, np.uint8))
        write_png(root / 'depth' / name, depth_to_png(np.full((8, 12), 2.5 + index), 256.0))
        lines.append(f'rgb/{name}\tmasks/{name}\tdepth/{name}\n')
    (root / 'distilled_list.txt').write_text(''.join(lines))
    names = list(get_class_set(classes).names)
    (root / 'manifest.json').write_text(json.dumps({
        'settings': {'classes': classes, 'class_names': names}, 'depth_scale': 256.0,
        'list': 'distilled_list.txt'}))
    return root


def test_every_tenth_frame_is_validation_and_the_rest_training(tmp_path):
    root = _distilled(tmp_path, 25)
    synthetic = get_class_set('synthetic')
    train = build_dataset({'type': 'distilled', 'root': str(root), 'split': 'train'}, synthetic)
    val = build_dataset({'type': 'distilled', 'root': str(root), 'split': 'val'}, synthetic)
    assert len(train) == 23 and len(val) == 2
    sample = val[0]
    assert int(sample['image'][0, 0, 0]) == 9
    assert float(sample['depth'][0, 0]) == pytest.approx(11.5, abs=1 / 256)


def test_a_student_of_another_class_set_is_refused(tmp_path):
    root = _distilled(tmp_path, 3, classes='cityscapes_19')
    with pytest.raises(DatasetError, match=r"distilled for class set 'cityscapes_19' but the "
                                           r"model is trained on 'synthetic'"):
        build_dataset({'type': 'distilled', 'root': str(root)}, get_class_set('synthetic'))


def test_an_unfinished_distillation_says_so(tmp_path):
    with pytest.raises(DatasetError, match='no readable manifest .* is the distillation '
                                           'finished'):
        build_dataset({'type': 'distilled', 'root': str(tmp_path)}, get_class_set('synthetic'))
    root = _distilled(tmp_path / 'few', 3)
    with pytest.raises(DatasetError, match=r"the 'val' split is empty \(3 frames"):
        build_dataset({'type': 'distilled', 'root': str(root), 'split': 'val'},
                      get_class_set('synthetic'))
