# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Teacher classes land on the student's by name, built-in map and user map; mistakes are named."""

from __future__ import annotations

from mtl_perception.labels import get_class_set, IGNORE_ID
from mtl_perception.training.errors import TrainingConfigError
from mtl_perception.training.teachers.class_maps import (
    build_class_map, normalise, read_user_map, teacher_family
)
import numpy as np
import pytest
from teacher_fixtures import ADE20K_NAMES, CITYSCAPES_NAMES


def _lookup(class_map, teacher_names, name):
    return class_map.table[list(teacher_names).index(name)]


def test_names_match_whatever_their_spelling():
    assert normalise('Traffic_Light') == normalise('traffic-light') == 'traffic light'
    spelt = [name.replace(' ', '_').upper() for name in CITYSCAPES_NAMES]
    assert teacher_family(spelt) == 'cityscapes_19'
    assert teacher_family(list(ADE20K_NAMES)) == 'ade20k_150'
    assert teacher_family(['road', 'sky']) is None


def test_cityscapes_onto_the_synthetic_set_uses_equal_names_and_the_built_in_map():
    student = get_class_set('synthetic')
    class_map = build_class_map(list(CITYSCAPES_NAMES), student)
    names = student.names
    assert _lookup(class_map, CITYSCAPES_NAMES, 'road') == names.index('road')
    assert _lookup(class_map, CITYSCAPES_NAMES, 'rider') == names.index('person')
    assert _lookup(class_map, CITYSCAPES_NAMES, 'bus') == names.index('car')
    assert _lookup(class_map, CITYSCAPES_NAMES, 'traffic light') == IGNORE_ID
    assert class_map.pairs['terrain'] == 'ignore' and class_map.family == 'cityscapes_19'
    ids = np.array([[0, 12], [6, 13]])
    np.testing.assert_array_equal(class_map.apply(ids), [[names.index('road'),
                                                          names.index('person')],
                                                         [IGNORE_ID, names.index('car')]])


def test_cityscapes_onto_cityscapes_is_the_identity():
    class_map = build_class_map(list(CITYSCAPES_NAMES), get_class_set('cityscapes_19'))
    np.testing.assert_array_equal(class_map.table, np.arange(19))


def test_an_indoor_ade20k_teacher_maps_onto_nyuv2_40():
    student = get_class_set('nyuv2_40')
    class_map = build_class_map(list(ADE20K_NAMES), student)
    assert _lookup(class_map, ADE20K_NAMES, 'windowpane') == student.names.index('window')
    assert _lookup(class_map, ADE20K_NAMES, 'floor') == student.names.index('floor')
    assert _lookup(class_map, ADE20K_NAMES, 'car') == IGNORE_ID
    street = build_class_map(list(ADE20K_NAMES), get_class_set('kitti_6'))
    assert _lookup(street, ADE20K_NAMES, 'tree') == get_class_set('kitti_6').names.index(
        'vegetation')


def test_a_user_map_overrides_the_built_in_one(tmp_path):
    path = tmp_path / 'map.yaml'
    path.write_text('terrain: vegetation\nrider: ignore\nTraffic_Light: pole\n')
    student = get_class_set('synthetic')
    class_map = build_class_map(list(CITYSCAPES_NAMES), student, read_user_map(path))
    assert _lookup(class_map, CITYSCAPES_NAMES, 'terrain') == student.names.index('vegetation')
    assert _lookup(class_map, CITYSCAPES_NAMES, 'rider') == IGNORE_ID
    assert _lookup(class_map, CITYSCAPES_NAMES, 'traffic light') == student.names.index('pole')


def test_a_map_naming_a_class_the_student_set_lacks_is_one_error(tmp_path):
    with pytest.raises(TrainingConfigError, match=r"map.yaml: the student class set 'kitti_6' "
                                                  r"has no class 'person'"):
        build_class_map(list(CITYSCAPES_NAMES), get_class_set('kitti_6'),
                        {'rider': 'person'}, 'map.yaml')
    with pytest.raises(TrainingConfigError, match=r"the teacher has no class 'lamp post'"):
        build_class_map(list(CITYSCAPES_NAMES), get_class_set('kitti_6'), {'lamp_post': 'sky'})


def test_a_teacher_sharing_no_class_with_the_student_needs_a_map():
    with pytest.raises(TrainingConfigError, match='no teacher class maps onto the student class'):
        build_class_map(['foo', 'bar'], get_class_set('synthetic'))


def test_an_unreadable_user_map_is_named(tmp_path):
    path = tmp_path / 'map.yaml'
    path.write_text('- road\n- sky\n')
    with pytest.raises(TrainingConfigError, match=r'class map .*map.yaml: expected a mapping'):
        read_user_map(path)
