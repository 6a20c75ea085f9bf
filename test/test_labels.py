# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Tests of mtl_perception.labels."""

import csv

from mtl_perception.errors import ModelConfigError
from mtl_perception.labels import (
    CLASS_SETS, ClassSet, get_class_set, voc_palette, write_palette_csv
)
import numpy as np
import pytest


@pytest.mark.parametrize(('name', 'count'), [
    ('nyuv2_40', 40), ('kitti_6', 6), ('cityscapes_19', 19), ('synthetic', 8)])
def test_each_class_set_has_its_documented_size_and_a_colour_per_class(name, count):
    classes = get_class_set(name)
    assert classes.num_classes == count
    assert classes.palette.shape == (count, 3)
    assert classes.palette.dtype == np.uint8
    assert len(set(classes.names)) == count


def test_kitti_6_is_the_papers_class_list_with_cityscapes_colours():
    kitti = get_class_set('kitti_6')
    assert kitti.names == ('sky', 'building', 'road', 'sidewalk', 'vegetation', 'car')
    assert tuple(kitti.palette[kitti.names.index('road')]) == (128, 64, 128)
    assert tuple(kitti.palette[kitti.names.index('car')]) == (0, 0, 142)


def test_synthetic_classes_map_onto_cityscapes_names():
    cityscapes = set(get_class_set('cityscapes_19').names)
    assert set(get_class_set('synthetic').names) <= cityscapes


def test_nyu_palette_colours_are_distinct():
    palette = get_class_set('nyuv2_40').palette
    assert len({tuple(colour) for colour in palette}) == 40
    assert voc_palette(2) == ((128, 0, 0), (0, 128, 0))


def test_unknown_class_set_names_the_known_ones():
    with pytest.raises(ModelConfigError, match=r"unknown class set 'coco'.*'kitti_6'"):
        get_class_set('coco')


def test_class_set_with_mismatched_colours_is_rejected():
    with pytest.raises(ModelConfigError, match='2 names but 1 colours'):
        ClassSet('broken', ('a', 'b'), ((0, 0, 0),))


def test_palette_csv_is_in_the_kimera_semantics_format(tmp_path):
    classes = CLASS_SETS['kitti_6']
    path = write_palette_csv(classes.names, classes.palette, tmp_path / 'kitti.csv')
    rows = list(csv.reader(path.open()))
    assert rows[0] == ['name', 'red', 'green', 'blue', 'alpha', 'id']
    assert rows[1] == ['sky', '70', '130', '180', '255', '0']
    assert rows[-1] == ['car', '0', '0', '142', '255', '5']
    assert len(rows) == 7
