# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The layering of docs/architecture.md, checked from the source (imports inside functions too)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / 'mtl_perception'
MAX_LINES = 350


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def _sources() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob('*.py'))}


def _imported(tree: ast.AST) -> set[str]:
    """Return every absolute module name imported anywhere in ``tree``.

    ``from x import y`` gives ``x.y`` and ``x``, so that a submodule imported by name counts.
    """
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f'{node.module}.{alias.name}' for alias in node.names)
    return names


def _graph() -> dict[str, set[str]]:
    modules = _sources()
    graph = {}
    for name, path in modules.items():
        targets = _imported(ast.parse(path.read_text()))
        graph[name] = {target for target in targets if target in modules} - {name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def _importers_of(prefix: str) -> dict[str, list[str]]:
    return {name: sorted(t for t in targets if t == prefix or t.startswith(prefix + '.'))
            for name, targets in _graph().items()}


def test_the_package_has_no_import_cycle():
    assert _cycle(_graph()) is None, ' -> '.join(_cycle(_graph()))


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == ['a', 'b', 'c', 'a']
    assert _cycle({'a': {'b'}, 'b': set()}) is None


def test_only_the_ros_layer_imports_rclpy_or_ros_messages():
    ros_roots = {'rclpy', 'sensor_msgs', 'std_msgs', 'diagnostic_msgs', 'rcl_interfaces',
                 'lifecycle_msgs', 'builtin_interfaces'}
    offenders = {}
    for name, path in _sources().items():
        if name.startswith('mtl_perception.ros'):
            continue
        roots = {target.split('.')[0] for target in _imported(ast.parse(path.read_text()))}
        if roots & ros_roots:
            offenders[name] = sorted(roots & ros_roots)
    assert offenders == {}


def test_nothing_outside_training_imports_training():
    importers = _importers_of('mtl_perception.training')
    offenders = {name: targets for name, targets in importers.items()
                 if targets and not name.startswith('mtl_perception.training')}
    assert offenders == {}


def test_the_model_imports_nothing_from_the_importers():
    importers = _importers_of('mtl_perception.importers')
    offenders = {name: targets for name, targets in importers.items()
                 if targets and name.startswith('mtl_perception.model')}
    assert offenders == {}


def test_the_core_imports_neither_the_tools_nor_the_ros_layer():
    outer = ('mtl_perception.ros', 'mtl_perception.tools')
    offenders = {}
    for name, targets in _graph().items():
        if name.startswith(outer):
            continue
        bad = sorted(t for t in targets if t.startswith(outer))
        if bad:
            offenders[name] = bad
    assert offenders == {}


def test_no_module_is_over_the_line_limit():
    long = {name: count for name, path in _sources().items()
            if (count := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_every_error_class_lives_in_an_errors_module():
    misplaced = []
    for name, path in _sources().items():
        if name.endswith('.errors'):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(base, ast.Name) and base.id.endswith(('Error', 'Exception'))
                    for base in node.bases):
                misplaced.append(f'{name}.{node.name}')
    assert misplaced == []


def test_only_the_camera_model_reads_a_camera_infos_geometry():
    """Region of interest and binning change intrinsics; one module applies them."""
    readers = set()
    for name, path in _sources().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load)
                    and node.attr in ('roi', 'binning_x', 'binning_y')):
                readers.add(name)
    assert readers == {'mtl_perception.camera_model'}
