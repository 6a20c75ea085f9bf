# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""A teacher's label set mapped onto the student's class set, by class name.

Names are compared after normalisation (lower case, ``_``/``-`` as spaces), so
``traffic_light`` and ``Traffic Light`` are one class. A recognised teacher family
(Cityscapes-19, ADE20K-150) brings a built-in map onto this project's street sets and, for
ADE20K, onto NYUv2-40; any other teacher maps the classes whose names the student set shares.
A user YAML map (teacher name -> student name or ``ignore``) overrides both. Teacher classes
left unmapped become 255 (ignored by the loss).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import re

from mtl_perception.errors import ModelConfigError
from mtl_perception.labels import ClassSet, get_class_set, IGNORE_ID
from mtl_perception.training.errors import TrainingConfigError
import numpy as np
import yaml

IGNORE = 'ignore'

_CITYSCAPES_19 = (
    'road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light', 'traffic sign',
    'vegetation', 'terrain', 'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train',
    'motorcycle', 'bicycle')
#: Classes only ADE20K-150 has among the families we know: the mark of that family.
_ADE20K_MARKS = frozenset({'windowpane', 'skyscraper', 'chest of drawers', 'pool table'})

_STREET_FROM_CITYSCAPES = {
    'synthetic': {'rider': 'person', 'truck': 'car', 'bus': 'car'},
    'kitti_6': {},
    'cityscapes_19': {},
}
_STREET_FROM_ADE20K = {
    'synthetic': {'house': 'building', 'skyscraper': 'building', 'tree': 'vegetation',
                  'plant': 'vegetation', 'palm': 'vegetation', 'grass': 'vegetation',
                  'truck': 'car', 'bus': 'car', 'van': 'car', 'streetlight': 'pole'},
    'kitti_6': {'house': 'building', 'skyscraper': 'building', 'tree': 'vegetation',
                'plant': 'vegetation', 'palm': 'vegetation', 'grass': 'vegetation',
                'van': 'car'},
    'cityscapes_19': {'house': 'building', 'skyscraper': 'building', 'tree': 'vegetation',
                      'plant': 'vegetation', 'palm': 'vegetation', 'grass': 'terrain',
                      'earth': 'terrain', 'van': 'car', 'streetlight': 'pole',
                      'signboard': 'traffic sign', 'railing': 'fence', 'minibike': 'motorcycle'},
    'nyuv2_40': {'windowpane': 'window', 'bookcase': 'bookshelf', 'painting': 'picture',
                 'blind': 'blinds', 'shelf': 'shelves', 'chest of drawers': 'dresser',
                 'rug': 'floor mat', 'apparel': 'clothes', 'book': 'books',
                 'television receiver': 'television', 'countertop': 'counter',
                 'swivel chair': 'chair', 'armchair': 'chair',
                 'coffee table': 'table', 'screen door': 'door'},
}
#: Built-in maps beyond equal names: family -> student class set -> {teacher: student}.
BUILT_IN = {'cityscapes_19': _STREET_FROM_CITYSCAPES, 'ade20k_150': _STREET_FROM_ADE20K}


def normalise(name: str) -> str:
    """Compare class names without case, underscores, hyphens or extra spaces."""
    return re.sub(r'[\s_\-]+', ' ', str(name)).strip().lower()


def teacher_family(names: list[str]) -> str | None:
    """Recognise the label set of a teacher: ``cityscapes_19``, ``ade20k_150`` or None."""
    normalised = [normalise(name) for name in names]
    if tuple(normalised) == _CITYSCAPES_19:
        return 'cityscapes_19'
    if len(normalised) == 150 and _ADE20K_MARKS <= set(normalised):
        return 'ade20k_150'
    return None


@dataclass(frozen=True)
class ClassMap:
    """Teacher class id -> student class id (``IGNORE_ID`` where unmapped).

    Attributes:
        table: ``(num_teacher_classes,)`` uint8 lookup table.
        pairs: Teacher name -> student name (or ``ignore``) for every teacher class, as
            recorded in the manifest.
        family: The recognised teacher family, if any.
    """

    table: np.ndarray
    pairs: dict[str, str]
    family: str | None

    def apply(self, teacher_ids: np.ndarray) -> np.ndarray:
        """Map an array of teacher class ids to student ids."""
        return self.table[teacher_ids]


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice (YAML itself keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        """Build a mapping; a repeated key is an error naming it and its lines."""
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f'{key!r} is given twice (lines {seen[key]} and {line}); '
                    'give each teacher class once', key_node.start_mark)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def yaml_problem(error: yaml.YAMLError) -> str:
    """Say in one line what is wrong in a YAML text and where (line, column)."""
    problem = getattr(error, 'problem', None) or str(error)
    mark = getattr(error, 'problem_mark', None)
    where = f' at line {mark.line + 1}, column {mark.column + 1}' if mark is not None else ''
    return ' '.join(f'{problem}{where}'.split())


def read_user_map(path: str | Path) -> dict[str, str]:
    """Read a YAML mapping ``teacher name: student name | ignore``.

    Raises:
        TrainingConfigError: Unreadable file, not UTF-8, not YAML, a key given twice, or not
            a flat mapping of names; names the file.
    """
    path = Path(path)
    try:
        loaded = yaml.load(path.read_text(encoding='utf-8'), Loader=_UniqueKeyLoader)
    except UnicodeDecodeError as error:
        raise TrainingConfigError(f'class map {path}: not UTF-8 text (byte {error.start} is '
                                  f'0x{error.object[error.start]:02x})') from None
    except OSError as error:
        raise TrainingConfigError(f'class map {path}: cannot read it: {error}') from None
    except yaml.YAMLError as error:
        raise TrainingConfigError(f'class map {path}: not valid YAML: '
                                  f'{yaml_problem(error)}') from None
    if not isinstance(loaded, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in loaded.items()):
        raise TrainingConfigError(f'class map {path}: expected a mapping "teacher class name: '
                                  f'student class name or {IGNORE}", got {loaded!r}')
    return loaded


def build_class_map(teacher_names: list[str], student: ClassSet,
                    user_map: dict[str, str] | None = None,
                    source: str = 'class map') -> ClassMap:
    """Map every teacher class onto ``student`` (equal names, built-in map, then ``user_map``).

    Raises:
        TrainingConfigError: The user map names a student class the set lacks, or a teacher
            class the teacher lacks; the message lists what exists.
    """
    teacher = [normalise(name) for name in teacher_names]
    students = {normalise(name): index for index, name in enumerate(student.names)}
    family = teacher_family(teacher_names)
    chosen = {name: name for name in teacher if name in students}
    chosen.update({normalise(k): normalise(v)
                   for k, v in BUILT_IN.get(family, {}).get(student.name, {}).items()})
    for their, ours in (user_map or {}).items():
        their, ours = normalise(their), normalise(ours)
        if their not in teacher:
            raise TrainingConfigError(f'{source}: the teacher has no class {their!r}; its '
                                      f'classes are {sorted(set(teacher))}')
        if ours != IGNORE and ours not in students:
            raise TrainingConfigError(
                f'{source}: the student class set {student.name!r} has no class {ours!r}; '
                f'its classes are {list(student.names)} (or {IGNORE})')
        chosen[their] = ours
    table = np.full(len(teacher), IGNORE_ID, dtype=np.uint8)
    pairs = {}
    for index, name in enumerate(teacher):
        target = chosen.get(name, IGNORE)
        if target != IGNORE and target in students:
            table[index] = students[target]
        pairs[teacher_names[index]] = target if target in students else IGNORE
    if (table == IGNORE_ID).all():
        raise TrainingConfigError(
            f'{source}: no teacher class maps onto the student class set {student.name!r}; '
            'give --class-map with "teacher class: student class" lines')
    return ClassMap(table, pairs, family)


def check_student_classes(name: str) -> ClassSet:
    """Look up the student class set ``--classes`` names.

    Raises:
        TrainingConfigError: Unknown class set; lists the known ones.
    """
    try:
        return get_class_set(name)
    except ModelConfigError as error:
        raise TrainingConfigError(f'--classes: {error}') from None
