# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Launch file, parameter file and rviz2 configuration agree with the package and the node.

``launch`` and ``rviz2`` are not installable here, so the files are checked statically and
against a real in-process node; test_perception_launch.py runs the launch file for real
wherever ``launch_testing`` is installed.
"""

from __future__ import annotations

import ast
from importlib.metadata import entry_points
from pathlib import Path

from mtl_perception.ros import NODE_NAME
from mtl_perception.ros.camera_remaps import DEFAULT_TOPICS, input_remappings, parse_cameras
from mtl_perception.ros.errors import SettingsError
from mtl_perception.ros.node import PerceptionNode
from mtl_perception.ros.parameters import PARAMETERS
from mtl_perception.tools.kitti_to_bag import camera_topics
import pytest
import rclpy
from rclpy.parameter import Parameter
import yaml

ROOT = Path(__file__).resolve().parents[2]
LAUNCH_FILE = ROOT / 'launch' / 'perception.launch.py'
EXPECTED_ARGUMENTS = {'image_topic', 'camera_info_topic', 'cameras', 'model', 'device',
                      'backend', 'precision',
                      'rviz_fixed_frame', 'rviz_topic_prefix', 'params_file',
                      'namespace', 'use_sim_time', 'rviz', 'rviz_config'}
REPLAY_FILE = ROOT / 'launch' / 'kitti_replay.launch.py'


def _launch_tree(path: Path = LAUNCH_FILE) -> ast.Module:
    return ast.parse(path.read_text())


def _declared_arguments(path: Path) -> set[str]:
    function = next(n for n in ast.walk(_launch_tree(path))
                    if isinstance(n, ast.FunctionDef) and n.name == '_arguments')
    rows = next(n for n in ast.walk(function) if isinstance(n, ast.Tuple)
                and all(isinstance(e, ast.Tuple) for e in n.elts))
    return {row.elts[0].value for row in rows.elts}


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _node_calls() -> dict[str, ast.Call]:
    calls = [n for n in ast.walk(_launch_tree()) if isinstance(n, ast.Call)
             and getattr(n.func, 'id', None) == 'Node']
    return {_keyword(call, 'executable').value: call for call in calls}


@pytest.fixture(scope='module')
def node(checkpoint_path):
    """Instantiate the real node in this process (no spinning needed)."""
    rclpy.init()
    instance = PerceptionNode(parameter_overrides=[
        Parameter('model', value=str(checkpoint_path)), Parameter('device', value='cpu')])
    yield instance
    instance.destroy_node()
    rclpy.shutdown()


def test_the_launch_file_declares_the_documented_arguments():
    assert _declared_arguments(LAUNCH_FILE) == EXPECTED_ARGUMENTS


def test_the_kitti_replay_plays_the_converter_topics_into_the_perception_launch():
    assert _declared_arguments(REPLAY_FILE) == {'rate', 'camera', 'model', 'device',
                                                'backend', 'precision', 'rviz', 'player',
                                                'fixed_frame'}
    text = REPLAY_FILE.read_text()
    assert "DeclareLaunchArgument('bag', description=" in text  # required: no default
    assert "['ros2', 'bag', 'play', '--delay', '1']" in text and "'--clock'" in text
    assert "'use_sim_time': 'true'" in text
    included = {node.value for node in ast.walk(_launch_tree(REPLAY_FILE))
                if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert {'perception.launch.py', 'kitti_replay.yaml', 'kitti_replay.rviz'} <= included
    for name in ('kitti_replay.yaml', 'kitti_replay.rviz'):
        assert (ROOT / 'config' / name).is_file()
    assert camera_topics(2)['image'] == '/kitti/camera_color_left/image_raw'
    assert '/kitti/camera_color_' in included and '/image_raw' in included


def test_the_replay_parameter_file_only_switches_the_inputs_to_reliable():
    replay = yaml.safe_load((ROOT / 'config' / 'kitti_replay.yaml').read_text())
    default = yaml.safe_load((ROOT / 'config' / 'perception.yaml').read_text())
    replay, default = replay['/**']['ros__parameters'], default['/**']['ros__parameters']
    assert {k for k in default if default[k] != replay[k]} == {'input_reliability'}
    assert replay['input_reliability'] == 'reliable'


def test_the_launched_executable_is_a_console_script_with_the_node_name():
    call = _node_calls()['perception_node']
    scripts = {ep.name for ep in entry_points(group='console_scripts')}
    assert 'perception_node' in scripts
    assert _keyword(call, 'package').value == 'mtl_perception'
    assert _keyword(call, 'name').value == NODE_NAME


def _overridable() -> list[str]:
    assignment = next(n for n in ast.walk(_launch_tree()) if isinstance(n, ast.Assign)
                      and getattr(n.targets[0], 'id', None) == 'OVERRIDABLE')
    return [element.value for element in assignment.value.elts]


def test_launch_parameters_and_remappings_exist_on_the_node(node):
    call = _node_calls()['perception_node']
    for name in (*_overridable(), 'use_sim_time', 'cameras'):
        assert node.has_parameter(name), name
    assert ast.unparse(_keyword(call, 'remappings')) == 'input_remappings(cameras, topics)'
    remapped = {name for name, _ in input_remappings((), dict(DEFAULT_TOPICS))}
    subscribed = {s.topic_name for s in node.subscriptions}
    assert {f'/{name}' for name in remapped} == subscribed


def test_the_remappings_of_several_cameras_are_what_such_a_node_subscribes_to(
        node, checkpoint_path):
    cameras = parse_cameras('front, left,right')
    assert cameras == ('front', 'left', 'right') == parse_cameras('[front, left, right]')
    remappings = input_remappings(cameras, {'image': '/{camera}/image_rect',
                                            'camera_info': DEFAULT_TOPICS['camera_info']})
    assert ('left/image', '/left/image_rect') in remappings
    assert ('right/camera_info', '/right/camera_info') in remappings  # the default's pattern
    several = PerceptionNode(cli_args=['--ros-args', '-r', '__ns:=/several'],
                             parameter_overrides=[
                                 Parameter('model', value=str(checkpoint_path)),
                                 Parameter('device', value='cpu'),
                                 Parameter('cameras', value=list(cameras))])
    try:
        subscribed = {s.topic_name for s in several.subscriptions}
        published = {topic for topic, _ in several.get_publisher_names_and_types_by_node(
            NODE_NAME, '/several')}
    finally:
        several.destroy_node()
    assert subscribed == {f'/several/{name}' for name, _ in remappings}
    assert {f'/several/{NODE_NAME}/{camera}/points' for camera in cameras} <= published
    assert f'/several/{NODE_NAME}/points' not in published


@pytest.mark.parametrize(('text', 'topics', 'message'), [
    ('front,front', DEFAULT_TOPICS, 'front given more than once'),
    ('front,left-1', DEFAULT_TOPICS, "'left-1' is not a camera name"),
    ('front,left', {**DEFAULT_TOPICS, 'image': '/cam/image'},
     'launch argument image_topic:=/cam/image gives every camera the same topic'),
])
def test_camera_arguments_that_cannot_work_are_refused_in_one_line(text, topics, message):
    with pytest.raises(SettingsError, match=message):
        input_remappings(parse_cameras(text), dict(topics))


def test_the_params_file_comes_first_and_only_given_arguments_override_it():
    """launch_ros applies parameters in order: the file, then the arguments that were given.

    test_launch_run.py checks the result with the real launch_ros where it is installed.
    """
    parameters = _keyword(_node_calls()['perception_node'], 'parameters')
    first, overrides = parameters.elts
    assert ast.unparse(first) == "settings['params_file']"
    assert [ast.unparse(key) if key else '**' for key in overrides.keys] == [
        '**', "'use_sim_time'"]
    defaults = _argument_defaults(LAUNCH_FILE)
    assert {name: defaults[name] for name in _overridable()} == dict.fromkeys(
        _overridable(), '')  # empty: not given, the file decides


def _argument_defaults(path: Path) -> dict[str, str]:
    function = next(n for n in ast.walk(_launch_tree(path))
                    if isinstance(n, ast.FunctionDef) and n.name == '_arguments')
    rows = next(n for n in ast.walk(function) if isinstance(n, ast.Tuple)
                and all(isinstance(e, ast.Tuple) for e in n.elts))
    return {row.elts[0].value: ast.literal_eval(row.elts[1]) for row in rows.elts
            if isinstance(row.elts[1], ast.Constant)}


def test_the_parameter_file_sets_every_parameter_to_its_declared_default():
    values = yaml.safe_load((ROOT / 'config' / 'perception.yaml').read_text())
    parameters = values['/**']['ros__parameters']
    assert set(parameters) == set(PARAMETERS)
    for name, (default, *_rest) in PARAMETERS.items():
        assert parameters[name] == default, name


def test_rviz_shows_colour_segmentation_depth_and_the_cloud_by_colour_and_label(node):
    config = yaml.safe_load((ROOT / 'config' / 'perception.rviz').read_text())
    displays = config['Visualization Manager']['Displays']
    # ~/normals/color exists on nodes running a three-task model (test_node checks that)
    published = {p.topic_name for p in node.publishers} | {'/mtl_perception/normals/color'}
    by_topic = {}
    for display in displays:
        if 'Topic' in display:
            assert display['Topic']['Value'] in published, display['Name']
            by_topic.setdefault(display['Topic']['Value'], []).append(display)
    assert by_topic['/mtl_perception/segmentation/color'][0]['Class'].endswith('/Image')
    assert by_topic['/mtl_perception/depth/color'][0]['Class'].endswith('/Image')
    assert by_topic['/mtl_perception/depth/color'][0]['Enabled'] is True
    assert by_topic['/mtl_perception/depth/image'][0]['Class'].endswith('/Image')
    assert by_topic['/mtl_perception/normals/color'][0]['Enabled'] is False
    clouds = by_topic['/mtl_perception/points']
    assert {c['Color Transformer'] for c in clouds} == {'RGB8', 'Intensity'}
    assert any(c.get('Channel Name') == 'label' for c in clouds)


def test_the_replay_view_shows_the_semantic_cloud_over_the_lidar_in_the_bags_base_link(
        tmp_path):
    from mtl_perception.synthetic.kitti_layout import write_kitti_drive
    from mtl_perception.tools.kitti_to_bag import main as kitti_to_bag, TYPESTORE
    from rosbags.rosbag2 import Reader
    config = yaml.safe_load((ROOT / 'config' / 'kitti_replay.rviz').read_text())
    manager = config['Visualization Manager']
    fixed = manager['Global Options']['Fixed Frame']
    clouds = {d['Topic']['Value']: d for d in manager['Displays']
              if d['Class'].endswith('/PointCloud2') and d['Enabled']}
    assert clouds['/mtl_perception/points']['Color Transformer'] == 'RGB8'  # class colours
    assert clouds['/kitti/velo/pointcloud']['Channel Name'] == 'intensity'
    assert any(d['Class'].endswith('/TF') and d['Enabled'] for d in manager['Displays'])
    assert manager['Views']['Current']['Target Frame'] == fixed == 'base_link'
    # the frames the view needs are the ones mtl_kitti_to_bag's /tf_static holds
    drive = write_kitti_drive(tmp_path / 'raw', seed=2, frames=1, width=32, height=16,
                              cameras=(2,), with_depth=False, progress=False)
    assert kitti_to_bag([str(drive), str(tmp_path / 'bag'), '--no-progress']) == 0
    with Reader(tmp_path / 'bag') as reader:
        static = [c for c in reader.connections if c.topic == '/tf_static']
        frames = {name for _, _, raw in reader.messages(connections=static)
                  for item in TYPESTORE.deserialize_cdr(raw, 'tf2_msgs/msg/TFMessage').transforms
                  for name in (item.header.frame_id, item.child_frame_id)}
    assert {fixed, 'velo_link', 'kitti_camera_color_left_optical_frame'} <= frames
