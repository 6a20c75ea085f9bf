# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Cameras as robots have them, over DDS: compressed (JPEG, PNG) and Bayer streams.

Hostile and damaged frames (sizes declared to cost gigabytes, truncated JPEG/PNG, odd widths)
must be skipped with their cause named once, and the node must keep serving.

Each stream carries the same synthetic street frame; the node (default weights, so its labels
are confident) must segment it as it segments the plain rgb8 frame, within codec error.
"""

from __future__ import annotations

import os
from pathlib import Path
import re
import signal
import subprocess
import sys
import time

from bad_frames import (
    encode, jpeg_declaring, png_declaring, truncated_jpeg, truncated_png, with_exif_orientation
)
import cv2
from mtl_perception.formats.ros_images import image_to_array
from mtl_perception.ros.conversions import array_to_image
from mtl_perception.synthetic import render_frame
import numpy as np
import pytest
import rclpy
from rclpy.qos import qos_profile_sensor_data
from ros_fixtures import Client, domain_id
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header

OUTPUTS = ('segmentation', 'depth/image')


def _domain_id() -> str:
    return str(domain_id('camera_inputs'))


def _start(namespace: str, log: Path, *parameters: str) -> subprocess.Popen:
    arguments = [item for parameter in parameters for item in ('-p', parameter)]
    with log.open('w') as stream:
        return subprocess.Popen(
            [sys.executable, '-m', 'mtl_perception', 'perception_node', '--ros-args', '-r',
             f'__ns:={namespace}', '-p', 'device:=cpu', '-p', 'backend:=torch', *arguments],
            env={**os.environ, 'ROS_DOMAIN_ID': _domain_id()}, stdout=stream,
            stderr=subprocess.STDOUT)


@pytest.fixture(scope='module')
def logs(tmp_path_factory) -> dict[str, Path]:
    """Name the file of each node's console output (stdout and stderr), by namespace."""
    folder = tmp_path_factory.mktemp('node_logs')
    return {name: folder / f'{name}.log' for name in ('raw_input', 'compressed_input')}


@pytest.fixture(scope='module')
def processes(logs) -> dict[str, subprocess.Popen]:
    return {}


@pytest.fixture(scope='module')
def clients(logs, processes):
    """Start a raw-input and a compressed-input node on the default weights, a client each."""
    processes['raw_input'] = _start('/raw_input', logs['raw_input'])
    processes['compressed_input'] = _start('/compressed_input', logs['compressed_input'],
                                           'input_transport:=compressed')
    os.environ['ROS_DOMAIN_ID'] = _domain_id()
    rclpy.init()
    raw, compressed = Client('/raw_input'), Client('/compressed_input')
    compressed.image = compressed.node.create_publisher(CompressedImage, 'image/compressed',
                                                        qos_profile_sensor_data)
    yield raw, compressed
    for client in (raw, compressed):
        client.node.destroy_node()
    rclpy.shutdown()
    for process in processes.values():
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=300)


@pytest.fixture(scope='module')
def street() -> np.ndarray:
    return render_frame(1_000_321, width=320, height=96).rgb


@pytest.fixture(scope='module')
def reference(clients, street):
    """Take the raw node's labels and depth for the plain rgb8 frame."""
    outputs = clients[0].request(array_to_image(street, 'rgb8', Header()), None, OUTPUTS)
    return image_to_array(outputs['segmentation']), image_to_array(outputs['depth/image'])


def _agreement(outputs, reference) -> tuple[float, float]:
    labels, depth = image_to_array(outputs['segmentation']), image_to_array(outputs['depth/image'])
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


def _bad_count(client: Client, namespace: str, timeout: float = 30.0) -> int:
    """Return ``frames_bad`` from the next /diagnostics status of the node in ``namespace``."""
    deadline = time.monotonic() + timeout
    client.diagnostics.clear()
    while time.monotonic() < deadline:
        rclpy.spin_once(client.node, timeout_sec=0.05)
        for array in client.diagnostics:
            for status in array.status:
                if status.name.startswith(f'{namespace}/'):
                    return int({kv.key: kv.value for kv in status.values}['frames_bad'])
    raise AssertionError(f'no /diagnostics from {namespace} within {timeout} s')


def _until_skipped(client: Client, namespace: str, frame) -> None:
    """Send ``frame`` until the node counts one more bad frame (best effort may drop it)."""
    before = _bad_count(client, namespace)
    for _ in range(30):
        client.send(frame)
        if _bad_count(client, namespace) > before:
            return
    raise AssertionError(f'{namespace} never counted the frame as bad')


def _peak_memory_kib(process: subprocess.Popen) -> int:
    status = Path(f'/proc/{process.pid}/status').read_text()
    return int(re.search(r'VmHWM:\s+(\d+) kB', status).group(1))


def test_hostile_and_damaged_compressed_frames_are_skipped_before_decoding_with_their_cause(
        clients, street, reference, logs, processes):
    node = processes['compressed_input']
    peak_before = _peak_memory_kib(node)
    # what the log names for each cause: sizes differ, the cause is the same (logged once)
    hostile = {'PNG frame declares 20000x20000': png_declaring(20000, 20000),
               'JPEG frame declares 16000x16000': jpeg_declaring(16000, 16000),
               'JPEG frame declares 65000x65000': jpeg_declaring(65000, 65000),
               'premature end of data segment': truncated_jpeg(encode(street, '.jpg')),
               "b'IDAT'": truncated_png(encode(street, '.png'))}
    for data in hostile.values():
        _until_skipped(clients[1], '/compressed_input', CompressedImage(format='jpeg',
                                                                        data=data))
    # decoding the smallest of the hostile frames takes more than a gigabyte
    assert _peak_memory_kib(node) - peak_before < 300_000
    rotated = with_exif_orientation(encode(street, '.jpg'), 6)
    outputs = clients[1].request(CompressedImage(format='jpeg', data=rotated), None, OUTPUTS)
    assert (outputs['segmentation'].width, outputs['segmentation'].height) == (320, 96)
    assert _agreement(outputs, reference)[0] >= 0.95
    log = logs['compressed_input'].read_text()
    expected = {**dict.fromkeys(hostile, 1), 'JPEG frame declares 65000x65000': 0}
    assert {cause: log.count(cause) for cause in hostile} == expected, log
    assert log.count('Corrupt JPEG data') == 1  # in the node's line, not libjpeg's stderr
    assert 'unexpected error' not in log


def test_an_odd_width_yuv422_frame_is_named_and_skipped(clients, street, reference, logs):
    odd = np.zeros((96, 321, 2), np.uint8)
    frame = Image(height=96, width=321, encoding='yuv422', step=321 * 2, data=odd.tobytes())
    _until_skipped(clients[0], '/raw_input', frame)
    log = logs['raw_input'].read_text()
    assert log.count('must have an even width, this one is 321 wide') == 1, log
    assert 'unexpected error' not in log
    outputs = clients[0].request(array_to_image(street, 'rgb8', Header()), None, OUTPUTS)
    assert _agreement(outputs, reference)[0] == 1.0
