# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""A three-task model (the paper's ExpNYUD_three layout, imported) through the node over DDS."""

from __future__ import annotations

import os
from pathlib import Path
import signal
import subprocess
import sys
import time

from foreign_layouts import release_state_dict
from mtl_perception.formats.ros_images import image_to_array
from mtl_perception.importers.importer import import_checkpoint
from mtl_perception.inference import Predictor
from mtl_perception.ros.conversions import array_to_image
import numpy as np
import pytest
import rclpy
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from ros_fixtures import domain_id
from sensor_msgs.msg import Image
from std_msgs.msg import Header
import torch

NAMESPACE = '/normals_test'
OUTPUTS = ('depth/image', 'normals', 'normals/color')


def _domain_id() -> str:
    return str(domain_id('node_normals'))


@pytest.fixture(scope='module')
def three_task_model(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp('three_task')
    source = folder / 'ExpNYUD_three.ckpt'
    state = release_state_dict(40, normals=True, seed=5)
    state['depth.bias'] += 3.0  # positive metres inside NYUD's 0-10 m, as trained heads give
    torch.save({'state_dict': state}, source, _use_new_zipfile_serialization=False)
    import_checkpoint(source, folder / 'three.pt', input_size=(48, 64))
    return folder / 'three.pt'


@pytest.fixture(scope='module')
def node_process(three_task_model):
    env = {**os.environ, 'ROS_DOMAIN_ID': _domain_id(), 'PYTHONUNBUFFERED': '1'}
    process = subprocess.Popen(
        [sys.executable, '-m', 'mtl_perception', 'perception_node', '--ros-args', '-r',
         f'__ns:={NAMESPACE}', '-p', f'model:={three_task_model}', '-p', 'device:=cpu'],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=300)


@pytest.fixture(scope='module')
def client_node(node_process):
    os.environ['ROS_DOMAIN_ID'] = _domain_id()
    rclpy.init()
    node = Node('normals_test_client', namespace=NAMESPACE)
    yield node
    node.destroy_node()
    rclpy.shutdown()


def _request(node: Node, image: np.ndarray, timeout: float = 90.0) -> dict[str, Image]:
    """Publish the frame once a second until every output of one copy has arrived."""
    received: dict[str, dict[int, Image]] = {name: {} for name in OUTPUTS}
    for name in OUTPUTS:
        node.create_subscription(Image, f'mtl_perception/{name}',
                                 lambda msg, name=name: received[name].__setitem__(
                                     msg.header.stamp.sec, msg), 10)
    publisher = node.create_publisher(Image, 'image', qos_profile_sensor_data)
    deadline, stamp = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        stamp += 1
        header = Header(frame_id='camera_optical_frame')
        header.stamp.sec = stamp
        publisher.publish(array_to_image(image, 'rgb8', header))
        step_end = time.monotonic() + 1.0
        while time.monotonic() < step_end:
            rclpy.spin_once(node, timeout_sec=0.05)
            for sent in range(1, stamp + 1):
                if all(sent in received[name] for name in OUTPUTS):
                    return {name: received[name][sent] for name in OUTPUTS}
    raise AssertionError(f'no complete outputs {OUTPUTS} within {timeout} s')


def test_a_three_task_model_publishes_normals_equal_to_the_predictor(
        client_node, three_task_model):
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    outputs = _request(client_node, image)
    expected = Predictor.from_checkpoint(three_task_model, device='cpu').predict(image)
    normals = image_to_array(outputs['normals'])
    assert outputs['normals'].encoding == '32FC3'
    assert normals.shape == (48, 64, 3)
    np.testing.assert_allclose(normals, expected.normals, atol=1e-5, equal_nan=True)
    valid = np.isfinite(image_to_array(outputs['depth/image']))
    assert valid.mean() > 0.5
    np.testing.assert_allclose(np.linalg.norm(normals[valid], axis=1), 1.0, rtol=1e-5)
    colour = image_to_array(outputs['normals/color'])
    assert outputs['normals/color'].encoding == 'rgb8'
    np.testing.assert_array_equal(
        colour[valid], np.round((expected.normals[valid] + 1) * 127.5).astype(np.uint8))
