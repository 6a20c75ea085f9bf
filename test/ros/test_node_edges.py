# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""perception_node at its edges: bad parameters, floods of distinct bad input, huge frames."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from ros_fixtures import (Client, domain_id, image_message, info_message, ros_domain,
                          start_node)

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
    process.signal(signal.SIGTERM)
    code, log = process.finish()
    assert code == 0
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

sys.exit(run_node(BrokenNode, None, StopFlag()))
'''


def test_an_exception_that_ends_the_executor_ends_the_process_with_one_line_and_exit_1():
    result = subprocess.run([sys.executable, '-c', _FAILING_CALLBACK], capture_output=True,
                            text=True, timeout=120,
                            env={**os.environ, 'ROS_DOMAIN_ID': str(domain_id('executor'))})
    assert result.returncode == 1, result.stderr
    output = result.stdout + result.stderr
    assert 'the executor failed, the node stops: RuntimeError: a callback failed' in output
    assert 'Traceback' not in output
