# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Where the launch file points each camera's inputs: the ``cameras`` launch argument.

``cameras:=front,left,right`` names the cameras; ``image_topic`` and ``camera_info_topic``
are then patterns in which ``{camera}`` stands for each name. Kept apart from the launch
file so it can be tested where ``launch`` is not installed.
"""

from __future__ import annotations

from mtl_perception.ros.errors import SettingsError
from mtl_perception.ros.parameters import check_camera_names

DEFAULT_TOPICS = {'image': '/camera/image_raw', 'camera_info': '/camera/camera_info'}
CAMERA_PATTERNS = {'image': '/{camera}/image_raw', 'camera_info': '/{camera}/camera_info'}


def parse_cameras(text: str) -> tuple[str, ...]:
    """Read ``front,left,right`` (or ``[front, left, right]``); empty: one unnamed camera.

    Raises:
        SettingsError: A name that is not a camera name, or one given twice.
    """
    names = tuple(part.strip().strip('\'"') for part in text.strip().strip('[]').split(','))
    names = tuple(name for name in names if name)
    if names:
        check_camera_names(names)
    return names


def input_remappings(cameras: tuple[str, ...], topics: dict[str, str]) -> list[tuple[str, str]]:
    """Remap each camera's ``image`` and ``camera_info`` to the topics given.

    ``topics`` maps ``image`` and ``camera_info`` to a topic (no cameras) or to a pattern with
    ``{camera}``; left at their one-camera defaults, named cameras get ``/<name>/image_raw``
    and ``/<name>/camera_info``.

    Raises:
        SettingsError: Named cameras with a topic that is neither a pattern nor the default
            (every camera would read the same topic).
    """
    if not cameras:
        return [(kind, topic) for kind, topic in topics.items()]
    remappings = []
    for kind, topic in topics.items():
        if topic == DEFAULT_TOPICS[kind]:
            topic = CAMERA_PATTERNS[kind]
        if '{camera}' not in topic:
            argument = 'image_topic' if kind == 'image' else 'camera_info_topic'
            raise SettingsError(f'launch argument {argument}:={topic} gives every camera the '
                                f'same topic; with cameras, use a pattern such as '
                                f'{CAMERA_PATTERNS[kind]}')
        remappings += [(f'{camera}/{kind}', topic.replace('{camera}', camera))
                       for camera in cameras]
    return remappings
