# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""rviz2 configurations pointed at the node's topics wherever it runs (namespace, node name).

The shipped configurations name the topics of a node called ``mtl_perception`` in the root
namespace; rviz2 takes no topic arguments, so the launch files write a retargeted copy.
"""

from __future__ import annotations

import copy
from pathlib import Path
import re

from mtl_perception.ros.errors import RvizConfigError
import yaml

SHIPPED_PREFIX = '/mtl_perception'
_TOPIC_VALUE = re.compile(r'^(\s*Value: )' + re.escape(SHIPPED_PREFIX) + r'(?=/)', re.MULTILINE)
_NAME = re.compile(r'^(/[A-Za-z_][A-Za-z0-9_]*)+$')


def topic_prefix(namespace: str, node_name: str = 'mtl_perception') -> str:
    """Return where the node's private topics live: ``/<namespace>/<node name>``."""
    parts = [part for part in namespace.split('/') if part] + [node_name]
    return '/' + '/'.join(parts)


def retarget(config: Path, prefix: str, folder: Path,
             cameras: tuple[str, ...] = ()) -> Path:
    """Write a copy of ``config`` whose node topics start with ``prefix``; return its path.

    With named ``cameras`` every display of a node topic is repeated for each camera (its
    topic under ``prefix/<camera>``, its name led by the camera's); other displays stay once.

    Raises:
        RvizConfigError: ``prefix`` is not an absolute ROS name such as ``/robot/perception``.
    """
    prefix = prefix.rstrip('/')
    if not _NAME.match(prefix):
        raise RvizConfigError(f'rviz topic prefix {prefix!r} is not an absolute ROS name '
                              '(like /robot/mtl_perception)')
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / config.name
    if not cameras:
        target.write_text(_TOPIC_VALUE.sub(lambda match: match.group(1) + prefix,
                                           config.read_text()))
        return target
    layout = yaml.safe_load(config.read_text())
    manager = layout['Visualization Manager']
    manager['Displays'] = [repeated for display in manager['Displays']
                           for repeated in _per_camera(display, prefix, cameras)]
    target.write_text(yaml.safe_dump(layout, sort_keys=False))
    return target


def _per_camera(display: dict, prefix: str, cameras: tuple[str, ...]) -> list[dict]:
    """One copy of a node-topic display per camera; any other display as it is."""
    topic = display.get('Topic', {}).get('Value', '')
    if not topic.startswith(SHIPPED_PREFIX + '/'):
        return [display]
    copies = []
    for camera in cameras:
        repeated = copy.deepcopy(display)
        repeated['Name'] = f'{camera}: {display["Name"]}'
        repeated['Topic']['Value'] = f'{prefix}/{camera}{topic[len(SHIPPED_PREFIX):]}'
        copies.append(repeated)
    return copies
