"""Launch file, parameter file and rviz2 configuration agree with the package and the node.

``launch`` and ``rviz2`` are not installable here, so the files are checked statically and
against a real in-process node; test_perception_launch.py runs the launch file for real
wherever ``launch_testing`` is installed.
"""

from __future__ import annotations

import ast
from importlib.metadata import entry_points
from pathlib import Path

from mtl_perception.ros.node import NODE_NAME, PerceptionNode
from mtl_perception.ros.parameters import PARAMETERS
import pytest
import rclpy
from rclpy.parameter import Parameter
import yaml

ROOT = Path(__file__).resolve().parents[2]
LAUNCH_FILE = ROOT / 'launch' / 'perception.launch.py'
EXPECTED_ARGUMENTS = {'image_topic', 'camera_info_topic', 'model', 'device', 'params_file',
                      'namespace', 'use_sim_time', 'rviz'}


def _launch_tree() -> ast.Module:
    return ast.parse(LAUNCH_FILE.read_text())


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
    tree = _launch_tree()
    function = next(n for n in ast.walk(tree)
                    if isinstance(n, ast.FunctionDef) and n.name == '_arguments')
    rows = next(n for n in ast.walk(function) if isinstance(n, ast.Tuple)
                and all(isinstance(e, ast.Tuple) for e in n.elts))
    assert {row.elts[0].value for row in rows.elts} == EXPECTED_ARGUMENTS


def test_the_launched_executable_is_a_console_script_with_the_node_name():
    call = _node_calls()['perception_node']
    scripts = {ep.name for ep in entry_points(group='console_scripts')}
    assert 'perception_node' in scripts
    assert _keyword(call, 'package').value == 'mtl_perception'
    assert _keyword(call, 'name').value == NODE_NAME


def test_launch_parameters_and_remappings_exist_on_the_node(node):
    call = _node_calls()['perception_node']
    overrides = next(e for e in _keyword(call, 'parameters').elts if isinstance(e, ast.Dict))
    for key in overrides.keys:
        assert key.value in PARAMETERS or key.value == 'use_sim_time', key.value
        assert node.has_parameter(key.value)
    remapped = {pair.elts[0].value for pair in _keyword(call, 'remappings').elts}
    subscribed = {s.topic_name for s in node.subscriptions}
    assert {f'/{name}' for name in remapped} == subscribed


def test_the_parameter_file_sets_every_parameter_to_its_declared_default():
    values = yaml.safe_load((ROOT / 'config' / 'perception.yaml').read_text())
    parameters = values['/**']['ros__parameters']
    assert set(parameters) == set(PARAMETERS)
    for name, (default, *_rest) in PARAMETERS.items():
        assert parameters[name] == default, name


def test_rviz_shows_colour_segmentation_depth_and_the_cloud_by_colour_and_label(node):
    config = yaml.safe_load((ROOT / 'config' / 'perception.rviz').read_text())
    displays = config['Visualization Manager']['Displays']
    published = {p.topic_name for p in node.publishers}
    by_topic = {}
    for display in displays:
        if 'Topic' in display:
            assert display['Topic']['Value'] in published, display['Name']
            by_topic.setdefault(display['Topic']['Value'], []).append(display)
    assert by_topic['/mtl_perception/segmentation/color'][0]['Class'].endswith('/Image')
    assert by_topic['/mtl_perception/depth'][0]['Class'].endswith('/Image')
    clouds = by_topic['/mtl_perception/points']
    assert {c['Color Transformer'] for c in clouds} == {'RGB8', 'Intensity'}
    assert any(c.get('Channel Name') == 'label' for c in clouds)
