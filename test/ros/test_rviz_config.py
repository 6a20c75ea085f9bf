# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The rviz2 configurations follow the node into any namespace (launch argument)."""

from __future__ import annotations

from pathlib import Path

from mtl_perception.ros.errors import RvizConfigError
from mtl_perception.ros.rviz_config import retarget, topic_prefix
import pytest
import yaml

CONFIGS = sorted((Path(__file__).resolve().parents[2] / 'config').glob('*.rviz'))


def _topics(path: Path) -> list[str]:
    displays = yaml.safe_load(path.read_text())['Visualization Manager']['Displays']
    return [display['Topic']['Value'] for display in displays if 'Topic' in display]


def test_the_prefix_is_the_namespace_and_the_node_name():
    assert topic_prefix('') == '/mtl_perception'
    assert topic_prefix('/robot/front/') == '/robot/front/mtl_perception'
    assert topic_prefix('robot', 'seg') == '/robot/seg'


@pytest.mark.parametrize('config', CONFIGS, ids=lambda path: path.name)
def test_every_node_topic_moves_under_the_prefix_and_nothing_else_changes(config, tmp_path):
    copy = retarget(config, '/robot/front/mtl_perception/', tmp_path)
    before, after = _topics(config), _topics(copy)
    node_topics = [topic for topic in before if topic.startswith('/mtl_perception/')]
    assert node_topics and len(after) == len(before)
    for old, new in zip(before, after):  # sensor topics (the bag's LiDAR) stay where they are
        assert new == (old.replace('/mtl_perception/', '/robot/front/mtl_perception/', 1)
                       if old in node_topics else old)
    original, changed = config.read_text().splitlines(), copy.read_text().splitlines()
    assert sum(a != b for a, b in zip(original, changed)) == len(node_topics)


@pytest.mark.parametrize('prefix', ['robot/seg', '/robot seg', '/9robot', ''])
def test_a_prefix_that_is_not_an_absolute_ros_name_is_refused(prefix, tmp_path):
    with pytest.raises(RvizConfigError, match='not an absolute ROS name'):
        retarget(CONFIGS[0], prefix, tmp_path)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize('config', CONFIGS, ids=lambda path: path.name)
def test_for_several_cameras_each_node_display_is_repeated_per_camera(config, tmp_path):
    copy = retarget(config, '/robot/mtl_perception', tmp_path, ('front', 'left', 'right'))
    before = yaml.safe_load(config.read_text())['Visualization Manager']['Displays']
    after = yaml.safe_load(copy.read_text())['Visualization Manager']['Displays']
    node = [d for d in before
            if d.get('Topic', {}).get('Value', '').startswith('/mtl_perception/')]
    assert node and len(after) == len(before) + 2 * len(node)
    for display in node:
        topic = display['Topic']['Value'].removeprefix('/mtl_perception')
        for camera in ('front', 'left', 'right'):
            twin = next(d for d in after if d['Name'] == f'{camera}: {display["Name"]}')
            assert twin['Topic']['Value'] == f'/robot/mtl_perception/{camera}{topic}'
            assert {k: v for k, v in twin.items() if k not in ('Name', 'Topic')} == {
                k: v for k, v in display.items() if k not in ('Name', 'Topic')}
    others = [d for d in before if d not in node]
    assert [d for d in after if d in others] == others  # sensors, axes, grid: once, as they are
