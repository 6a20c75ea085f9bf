# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""perception_node at its edges: bad parameters, floods of distinct bad input, huge frames."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from mtl_perception.ros import NODE_NAME
from mtl_perception.ros.errors import SettingsError
from mtl_perception.ros.parameters import declare_settings
import numpy as np
import pytest
import rclpy
from rclpy.node import Node
from ros_fixtures import (Client, domain_id, image_message, info_message, ros_domain,
                          start_command, start_node)

NAMESPACE = '/edges_test'


def _domain_id() -> str:
    return str(domain_id('node_edges'))


def _node(model, *parameters: str):
    return start_node(model, 'backend:=torch', *parameters, namespace=NAMESPACE,
                      domain=_domain_id())


@pytest.mark.parametrize(('parameter', 'message'), [
    ('point_stride:=0', 'parameter point_stride: Parameter point_stride out of range. Min: 1'),
    ('point_stride:=100', 'Max: 64, value: 100'),
    ('input_queue_depth:=0', 'parameter input_queue_depth: '),
    ('diagnostics_period:=0.0', 'parameter diagnostics_period: '),
    ('half:=notabool', "parameter half: Trying to set parameter 'half' to 'notabool'"),
    ('model:=5', "parameter model: Trying to set parameter 'model' to '5'"),
    ('backend:=tensorrt',
     "parameter backend: 'tensorrt' is not one of auto, onnxruntime, openvino, torch"),
    ('precision:=int4', "parameter precision: 'int4' is not one of auto, fp32, fp16, int8"),
    ('fallback_intrinsics:=[1.0,2.0]', 'parameter fallback_intrinsics: [fx, fy, cx, cy]'),
    ('input_height:=64', 'parameters input_height and input_width: set both, or neither'),
    ('max_input_pixels:=10', 'parameter max_input_pixels: '),
    ('cameras:=[front, front]', 'parameter cameras: front given more than once'),
    ('cameras:=[front, 2nd]', "parameter cameras: '2nd' is not a camera name"),
    ('cameras:=[front, ""]', "parameter cameras: '' is not a camera name"),
])
def test_a_bad_parameter_is_refused_with_one_line_naming_it(parameter, message):
    # the node's own parameter layer, fed through rcl's real -p parser, in this process:
    # a node process per value would cost seconds of imports each
    context = rclpy.Context()
    rclpy.init(args=['perception_node', '--ros-args', '-p', parameter], context=context)
    node = Node(NODE_NAME, context=context)
    try:
        with pytest.raises(SettingsError) as refused:
            declare_settings(node)
    finally:
        node.destroy_node()
        rclpy.shutdown(context=context)
    assert message in str(refused.value) and '\n' not in str(refused.value)


@pytest.mark.parametrize(('parameter', 'message'), [
    ('point_stride:=0', 'parameter point_stride: Parameter point_stride out of range. Min: 1'),
    ('cameras:=[front, front]', 'parameter cameras: front given more than once'),
])
def test_a_bad_parameter_stops_the_node_with_one_fatal_line(checkpoint_path, parameter,
                                                            message):
    code, output = _node(checkpoint_path, parameter).finish(timeout=120)
    assert code == 1
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith('[FATAL]'), output
    assert message in lines[0]


@pytest.fixture(scope='module')
def edge_node(checkpoint_path):
    """Start a node that accepts at most 2048 pixels a frame, and a client for it."""
    process = _node(checkpoint_path, 'max_input_pixels:=2048', 'point_stride:=1')
    with ros_domain(int(_domain_id())):
        client = Client(NAMESPACE)
        yield process, client
        client.node.destroy_node()
    process.stop()


def test_live_changes_of_the_wrong_type_or_name_are_refused_in_words(edge_node):
    from rcl_interfaces.srv import SetParameters
    from rclpy.parameter import Parameter
    _, client = edge_node
    service = client.node.create_client(SetParameters,
                                        f'{NAMESPACE}/mtl_perception/set_parameters')
    assert service.wait_for_service(timeout_sec=60)
    future = service.call_async(SetParameters.Request(parameters=[
        Parameter('rectify', value='maybe').to_parameter_msg(),
        Parameter('point_strid', value=2).to_parameter_msg(),
        Parameter('cameras', value=[False, True]).to_parameter_msg()]))
    rclpy.spin_until_future_complete(client.node, future, timeout_sec=60)
    wrong_type, unknown, booleans = future.result().results
    assert not wrong_type.successful
    assert wrong_type.reason == ('parameter rectify takes a bool (true or false), got a string '
                                 "'maybe'")
    assert not unknown.successful and unknown.reason.startswith(
        'point_strid: no such parameter on this node (its parameters: model, device,')
    assert not booleans.successful and 'YAML reads y, n' in booleans.reason


def test_a_frame_of_one_pixel_is_refused_at_input_with_one_line(edge_node):
    process, client = edge_node
    tiny = image_message(np.zeros((1, 1, 3), np.uint8))
    first = client.stamp + 1
    client.pump_until(lambda: process.has_line('smaller than 8x8 pixels'), tiny, None)
    sent = range(first, client.stamp + 1)
    assert not any(stamp * 10**9 in client.received[name]
                   for name in client.received for stamp in sent)
    assert len([line for line in process.lines if 'smaller than 8x8' in line]) == 1


def test_stamps_from_another_clock_are_said_once_and_not_taken_as_latency(edge_node):
    process, client = edge_node
    small = np.random.default_rng(2).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    client.request(image_message(small), info_message(48, 32), outputs=('segmentation',))
    process.wait_for("s away from this node's clock: they come from another clock")
    values = {kv.key: kv.value for kv in client.fresh_status().values}
    assert values['latency_p50_ms'] == 'nan'


def test_floods_of_distinct_bad_input_are_logged_boundedly_and_frames_too_large_skipped(
        edge_node):
    process, client = edge_node
    small = np.random.default_rng(1).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    client.request(image_message(small), info_message(48, 32), outputs=('segmentation',))
    client.send(image_message(np.zeros((48, 64, 3), np.uint8)), None)  # 3072 > 2048 pixels
    client.spin(0.5)  # let it be processed before the next frame replaces it
    client.send(image_message(small), None, frame='x' * 5_000)  # no camera_info: warned about
    client.spin(1.0)
    for index in range(60):  # distinct causes: numbers alone would be one cause
        unknown = image_message(small)
        unknown.encoding = f'made_up_{chr(97 + index // 26)}{chr(97 + index % 26)}'
        client.send(unknown, None)
        client.spin(0.1)  # one at a time: a burst would be dropped by design, not processed
    client.spin(1.0)
    outputs = client.request(image_message(small), info_message(48, 32), outputs=('segmentation',))
    assert outputs['segmentation'].width == 48
    log = process.output  # every bad frame was served before the last good one
    warnings = [line for line in log.splitlines() if line.startswith('[WARN]')]
    assert len(warnings) <= 34
    assert any('further ones are counted in /diagnostics' in line for line in warnings)
    assert max(len(line) for line in log.splitlines()) < 600
    assert any('a 64x48 frame has more than max_input_pixels=2048 pixels' in line
               for line in warnings)
    assert any("for frame 'xxxx" in line and '(5000 characters)' in line for line in warnings)


_FAILING_CALLBACK = '''
import sys
from rclpy.node import Node
from mtl_perception.process_signals import StopFlag
from mtl_perception.ros.entry import run_node

class BrokenNode(Node):
    """A node whose timer callback raises: the executor ends with that exception."""
    def __init__(self):
        super().__init__('broken')
        self.create_timer(0.2, self.fail)

    def fail(self):
        raise RuntimeError('a callback failed')

    def serve(self, stop):
        stop.wait()

sys.exit(run_node(lambda: BrokenNode, None, StopFlag()))
'''


def test_an_exception_that_ends_the_executor_ends_the_process_with_one_line_and_exit_1():
    result = subprocess.run([sys.executable, '-c', _FAILING_CALLBACK], capture_output=True,
                            text=True, timeout=120,
                            env={**os.environ, 'ROS_DOMAIN_ID': str(domain_id('executor'))})
    assert result.returncode == 1, result.stderr
    output = result.stdout + result.stderr
    assert 'the executor failed, the node stops: RuntimeError: a callback failed' in output
    assert 'Traceback' not in output


@pytest.fixture(scope='module')
def broken_params_file(tmp_path_factory):
    """Write a parameter file that is not YAML."""
    path = tmp_path_factory.mktemp('params') / 'broken.yaml'
    path.write_text('mtl_perception:\n  ros__parameters: [model: : x\n')
    return path


@pytest.mark.parametrize('lifecycle', [False, True], ids=['node', 'lifecycle'])
@pytest.mark.parametrize(('arguments', 'message'), [
    (['--params-file', '/nonexistent.yaml'],
     "--ros-args: Couldn't parse params file: '--params-file /nonexistent.yaml': Error opening "
     'YAML file'),
    (['--params-file', 'BROKEN'], "--ros-args: Couldn't parse params file: '--params-file "),
    (['-r', 'image'], "--ros-args: Couldn't parse remap rule: '-r image'"),
    (['-p', ':=3'], "--ros-args: Couldn't parse parameter override rule: '-p :=3'"),
    (['--log-level', 'bogus'], "--ros-args: Couldn't parse log level: '--log-level bogus': "
                               'Argument does not use a valid severity level'),
    (['-p', 'cameras:=[n, h]'], '(YAML reads n as a boolean: quote the names, e.g. -p '
                                '"cameras:=[\'n\', ...]")'),
])
def test_malformed_ros_arguments_stop_either_node_with_one_fatal_line(
        broken_params_file, arguments, message, lifecycle):
    arguments = [str(broken_params_file) if a == 'BROKEN' else a for a in arguments]
    program = 'perception_lifecycle_node' if lifecycle else 'perception_node'
    code, output = start_command(program, '--ros-args', *arguments,
                                 domain=_domain_id()).finish(timeout=120)
    assert code == 1
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith('[FATAL]'), output
    assert message in lines[0] and '/project/src' not in lines[0]


def test_yaml_booleans_in_the_camera_names_are_explained(checkpoint_path):
    code, output = _node(checkpoint_path, 'cameras:=[n, y]').finish(timeout=120)
    assert code == 1
    assert ("parameter cameras: Trying to set parameter 'cameras' to '[False, True]'"
            in output)
    assert 'YAML reads y, n, yes, no, on, off, true and false as booleans' in output


@pytest.mark.parametrize('program', ['perception_node', 'perception_lifecycle_node'])
def test_help_prints_the_parameters_and_starts_no_node(program):
    code, output = start_command(program, '--help').finish(timeout=120)
    assert code == 0
    assert output.startswith(f'usage: {program} [--help] [--ros-args')
    assert '  point_stride (2): publish every N-th pixel of every N-th row' in output
    assert '[INFO]' not in output and 'ready' not in output


def test_sigterm_ends_the_edge_node_with_exit_0_after_all_that(edge_node):
    process, _ = edge_node
    process.signal(signal.SIGTERM)
    code, output = process.finish()
    assert code == 0 and 'Traceback' not in output
