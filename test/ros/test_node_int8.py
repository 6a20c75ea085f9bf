# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""perception_node with ``precision:=int8`` over real DDS: the same output checks as FP32.

The node runs the INT8 export of the default weights (``int8_model``, from the export cache)
on a rendered 640x192 street; its outputs must carry the frame's header, sizes and
encodings, equal a one-frame run of the same INT8 engine in this process, stay within the
INT8 bound of the FP32 weights, and the cloud must be the depth back-projected.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

from diagnostic_msgs.msg import DiagnosticArray
from mtl_perception.default_model import default_model_path
from mtl_perception.engines.loading import load_engine
from mtl_perception.formats.ros_clouds import pointcloud2_to_array
from mtl_perception.formats.ros_images import image_to_array
from mtl_perception.ros.conversions import array_to_image
from mtl_perception.synthetic import render_frame
import numpy as np
import pytest
import rclpy
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_fixtures import domain_id, ros_domain
from sensor_msgs.msg import CameraInfo, Image, PointCloud2
from std_msgs.msg import Header

NAMESPACE = '/int8_test'
FRAME_ID = 'front_optical_frame'
OUTPUTS = {'segmentation': Image, 'segmentation/color': Image, 'depth/image': Image,
           'points': PointCloud2}
RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
FX, FY, CX, CY = 320.0, 320.0, 319.5, 95.5


@pytest.fixture(scope='module')
def street():
    return render_frame(1_000_900).rgb  # a held-out frame of the weights' own domain


@pytest.fixture(scope='module')
def node(int8_model):
    """perception_node on the INT8 model (and the test side's ROS node)."""
    with ros_domain(domain_id('node_int8')) as domain:
        env = {**os.environ, 'ROS_DOMAIN_ID': domain, 'PYTHONUNBUFFERED': '1'}
        process = subprocess.Popen(
            [sys.executable, '-m', 'mtl_perception', 'perception_node', '--ros-args', '-r',
             f'__ns:={NAMESPACE}', '-p', f'model:={int8_model}', '-p', 'precision:=int8',
             '-p', 'point_stride:=1', '-p', 'diagnostics_period:=0.5',
             '-p', 'input_reliability:=reliable'],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        client = Node('int8_test_client', namespace=NAMESPACE)
        client.received = {name: {} for name in OUTPUTS}
        for name, kind in OUTPUTS.items():
            client.create_subscription(
                kind, f'mtl_perception/{name}',
                lambda msg, name=name: client.received[name].setdefault(
                    msg.header.stamp.sec, msg), RELIABLE)
        client.diagnostics = []
        client.create_subscription(DiagnosticArray, '/diagnostics', client.diagnostics.append,
                                   10)
        client.image = client.create_publisher(Image, 'image', RELIABLE)
        client.info = client.create_publisher(CameraInfo, 'camera_info', RELIABLE)
        try:
            yield process, client
        finally:
            client.destroy_node()
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=300)


def _request(client: Node, pixels: np.ndarray, timeout: float = 240.0) -> dict:
    """Send the frame (new stamps) until all outputs of one copy arrive."""
    deadline, stamp = time.monotonic() + timeout, 100
    while time.monotonic() < deadline:
        stamp += 1
        header = Header(frame_id=FRAME_ID)
        header.stamp.sec = stamp
        height, width = pixels.shape[:2]
        client.info.publish(CameraInfo(header=header, width=width, height=height,
                                       k=[FX, 0.0, CX, 0.0, FY, CY, 0.0, 0.0, 1.0]))
        client.image.publish(array_to_image(pixels, 'rgb8', header))
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            rclpy.spin_once(client, timeout_sec=0.05)
            for sent in range(101, stamp + 1):
                if all(sent in client.received[name] for name in OUTPUTS):
                    return {name: client.received[name][sent] for name in OUTPUTS}
    raise AssertionError(f'no complete outputs within {timeout} s')


def test_int8_outputs_pass_the_checks_of_fp32(node, street, int8_model):
    process, client = node
    outputs = _request(client, street)
    for name, message in outputs.items():
        assert message.header.frame_id == FRAME_ID, name
    assert outputs['segmentation'].encoding == 'mono8'
    assert outputs['depth/image'].encoding == '32FC1'
    labels = image_to_array(outputs['segmentation'])
    depth = image_to_array(outputs['depth/image'])
    assert labels.shape == depth.shape == (192, 640)
    alone = load_engine(int8_model).predict(street)  # the same engine, in this process
    assert (labels == alone.labels).mean() > 0.999
    np.testing.assert_allclose(depth, alone.depth, rtol=1e-4)
    fp32 = load_engine(default_model_path(), backend='torch', device='cpu').predict(street)
    assert (labels == fp32.labels).mean() >= 0.97
    cloud = pointcloud2_to_array(outputs['points']).reshape(192, 640)
    rows, cols = np.mgrid[0:192, 0:640]
    finite = np.isfinite(depth)
    assert finite.mean() > 0.5
    np.testing.assert_allclose(cloud['z'][finite], depth[finite], rtol=1e-5)
    np.testing.assert_allclose(cloud['x'][finite], ((cols - CX) / FX * depth)[finite],
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(cloud['label'][finite], labels[finite])


def test_diagnostics_and_the_ready_line_name_the_int8_engine(node):
    process, client = node
    client.diagnostics.clear()
    deadline = time.monotonic() + 30
    while not client.diagnostics and time.monotonic() < deadline:
        rclpy.spin_once(client, timeout_sec=0.05)
    assert client.diagnostics, 'no /diagnostics within 30 s'
    values = {kv.key: kv.value for kv in client.diagnostics[-1].status[0].values}
    assert values['backend'] == 'openvino' and values['provider'] == 'OpenVINO CPU int8'
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=300) == 0
    output = process.stdout.read()
    assert 'Traceback' not in output
    assert re.search(r'ready: model .*\.xml .* on openvino \(OpenVINO CPU int8\), warmed up',
                     output)
