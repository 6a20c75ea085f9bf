# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Cameras as robots have them, over DDS: compressed (JPEG, PNG) and Bayer streams.

Each stream carries the same synthetic street frame; the node (default weights, so its labels
are confident) must segment it as it segments the plain rgb8 frame, within codec error.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import cv2
from mtl_perception.formats.ros_images import image_to_array
from mtl_perception.ros.conversions import array_to_image
from mtl_perception.synthetic import render_frame
import numpy as np
import pytest
import rclpy
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CompressedImage
from std_msgs.msg import Header
from test_node import Client

OUTPUTS = ('segmentation', 'depth')


def _domain_id() -> str:
    return str(170 + os.getpid() % 30)


def _start(namespace: str, *parameters: str) -> subprocess.Popen:
    arguments = [item for parameter in parameters for item in ('-p', parameter)]
    return subprocess.Popen(
        [sys.executable, '-m', 'mtl_perception.ros.entry', '--ros-args', '-r',
         f'__ns:={namespace}', '-p', 'device:=cpu', '-p', 'backend:=torch', *arguments],
        env={**os.environ, 'ROS_DOMAIN_ID': _domain_id()}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)


@pytest.fixture(scope='module')
def clients():
    """Start a raw-input and a compressed-input node on the default weights, a client each."""
    processes = [_start('/raw_input'), _start('/compressed_input', 'input_transport:=compressed')]
    os.environ['ROS_DOMAIN_ID'] = _domain_id()
    rclpy.init()
    raw, compressed = Client('/raw_input'), Client('/compressed_input')
    compressed.image = compressed.node.create_publisher(CompressedImage, 'image/compressed',
                                                        qos_profile_sensor_data)
    yield raw, compressed
    for client in (raw, compressed):
        client.node.destroy_node()
    rclpy.shutdown()
    for process in processes:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


@pytest.fixture(scope='module')
def street() -> np.ndarray:
    return render_frame(1_000_321, width=320, height=96).rgb


@pytest.fixture(scope='module')
def reference(clients, street):
    """Take the raw node's labels and depth for the plain rgb8 frame."""
    outputs = clients[0].request(array_to_image(street, 'rgb8', Header()), None, OUTPUTS)
    return image_to_array(outputs['segmentation']), image_to_array(outputs['depth'])


def _agreement(outputs, reference) -> tuple[float, float]:
    labels, depth = image_to_array(outputs['segmentation']), image_to_array(outputs['depth'])
    both = np.isfinite(depth) & np.isfinite(reference[1])
    relative = np.abs(depth[both] - reference[1][both]) / reference[1][both]
    return float((labels == reference[0]).mean()), float(np.median(relative))


@pytest.mark.parametrize(('extension', 'labels_agree', 'depth_error'), [
    ('.png', 1.0, 0.0), ('.jpg', 0.95, 0.08)])
def test_a_compressed_stream_is_segmented_like_the_raw_frame(clients, street, reference,
                                                             extension, labels_agree,
                                                             depth_error):
    ok, data = cv2.imencode(extension, street[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
    frame = CompressedImage(format=extension[1:], data=data.tobytes())
    outputs = clients[1].request(frame, None, OUTPUTS)
    assert outputs['segmentation'].width == 320 and outputs['segmentation'].height == 96
    agreement, error = _agreement(outputs, reference)
    assert agreement >= labels_agree and error <= depth_error


def test_a_bayer_stream_is_segmented_like_the_raw_frame(clients, street, reference):
    mosaic = np.zeros(street.shape[:2], np.uint8)
    for row in range(2):
        for col in range(2):
            channel = 'rgb'.index('rggb'[2 * row + col])
            mosaic[row::2, col::2] = street[row::2, col::2, channel]
    frame = array_to_image(mosaic, 'mono8', Header())
    frame.encoding = 'bayer_rggb8'
    agreement, error = _agreement(clients[0].request(frame, None, OUTPUTS), reference)
    assert agreement >= 0.93 and error <= 0.08
