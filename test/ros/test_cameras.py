# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""One node, several cameras: each frame's outputs on its camera's topics, as if run alone.

A perception_node process serves four cameras over real DDS: three send frames at different
rates (every step, every second step, every third step) in two sizes, and one never sends.
Every output is checked against its frame's own header and against a one-frame run of the
same engine on that frame; one camera then stops and the others go on; each camera has its
own status on /diagnostics.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from mtl_perception.engines.loading import load_engine
from mtl_perception.formats.ros_clouds import pointcloud2_to_array
from mtl_perception.formats.ros_images import image_to_array
from mtl_perception.ros.conversions import array_to_image
from mtl_perception.ros.lifecycle_node import PerceptionLifecycleNode
import numpy as np
import pytest
import rclpy
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_fixtures import domain_id
from sensor_msgs.msg import CameraInfo, Image, PointCloud2
from std_msgs.msg import Header

NAMESPACE = '/cameras_test'
#: camera -> (frame size (height, width), sends every N-th step, first stamp: the frames are
#: told apart by the stamp's nanoseconds; its seconds are the time of sending, so that the
#: node measures real latencies)
SENDERS = {'front': ((48, 80), 1, 1000), 'left': ((48, 80), 2, 2000),
           'right': ((40, 64), 3, 3000)}
SILENT = 'rear'
CAMERAS = [*SENDERS, SILENT]
OUTPUTS = {'segmentation': Image, 'depth/image': Image, 'points': PointCloud2,
           'camera_info': CameraInfo}
RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


def _stamp(message: object) -> int:
    return message.header.stamp.nanosec


class Cameras:
    """The test side: three camera publishers and every output by camera and stamp."""

    def __init__(self) -> None:
        self.node = Node('cameras_test_client', namespace=NAMESPACE)
        self.images = {name: self.node.create_publisher(Image, f'{name}/image', RELIABLE)
                       for name in CAMERAS}
        self.infos = {name: self.node.create_publisher(CameraInfo, f'{name}/camera_info',
                                                       RELIABLE) for name in CAMERAS}
        self.received = {(name, output): {} for name in CAMERAS for output in OUTPUTS}
        for name in CAMERAS:
            for output, kind in OUTPUTS.items():
                self.node.create_subscription(
                    kind, f'mtl_perception/{name}/{output}',
                    lambda msg, key=(name, output): self.received[key].setdefault(
                        _stamp(msg), []).append(msg), RELIABLE)
        self.diagnostics: list[DiagnosticArray] = []
        self.node.create_subscription(DiagnosticArray, '/diagnostics',
                                      self.diagnostics.append, 10)
        self.sent: dict[str, dict[int, np.ndarray]] = {name: {} for name in SENDERS}

    def send(self, camera: str, index: int) -> None:
        """Publish frame ``index`` of ``camera`` (its own content, stamp and frame id)."""
        (height, width), _, first = SENDERS[camera]
        stamp = first + index
        rng = np.random.default_rng(stamp)
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        header = Header(frame_id=f'{camera}_optical_frame')
        header.stamp.sec, header.stamp.nanosec = int(time.time()), stamp
        info = CameraInfo(header=header, width=width, height=height,
                          k=[60.0, 0.0, width / 2, 0.0, 60.0, height / 2, 0.0, 0.0, 1.0])
        self.infos[camera].publish(info)
        self.images[camera].publish(array_to_image(pixels, 'rgb8', header))
        self.sent[camera][stamp] = pixels

    def complete(self, camera: str) -> set[int]:
        """Stamps of ``camera`` whose every output has arrived."""
        stamps = [set(self.received[(camera, output)]) for output in OUTPUTS]
        return set.intersection(*stamps)

    def spin(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            rclpy.spin_once(self.node, timeout_sec=0.02)

    def drive(self, cameras: list[str], until, what: str, timeout: float = 120.0) -> None:
        """Send at each camera's rate, one step every 50 ms, until ``until()`` holds."""
        deadline, step = time.monotonic() + timeout, 0
        while not until():
            assert time.monotonic() < deadline, f'{what} not within {timeout} s'
            for camera in cameras:
                if step % SENDERS[camera][1] == 0:
                    self.send(camera, len(self.sent[camera]))
            step += 1
            self.spin(0.05)

    def statuses(self, timeout: float = 30.0) -> dict[str, DiagnosticStatus]:
        """Return the node's next /diagnostics message, by status name."""
        self.diagnostics.clear()
        deadline = time.monotonic() + timeout
        while not self.diagnostics and time.monotonic() < deadline:
            rclpy.spin_once(self.node, timeout_sec=0.05)
        assert self.diagnostics, f'no /diagnostics within {timeout} s'
        return {status.name: status for status in self.diagnostics[-1].status}


@pytest.fixture(scope='module')
def node_process(checkpoint_path):
    """perception_node with four cameras on the default backend (ONNX Runtime)."""
    os.environ['ROS_DOMAIN_ID'] = str(domain_id('cameras'))
    command = [sys.executable, '-m', 'mtl_perception', 'perception_node', '--ros-args',
               '-r', f'__ns:={NAMESPACE}', '-p', f'model:={checkpoint_path}',
               '-p', 'device:=cpu', '-p', 'point_stride:=1', '-p', 'diagnostics_period:=0.5',
               '-p', 'input_reliability:=reliable', '-p', f'cameras:=[{", ".join(CAMERAS)}]']
    process = subprocess.Popen(command, env={**os.environ, 'PYTHONUNBUFFERED': '1'},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=300)


@pytest.fixture(scope='module')
def cameras(node_process):
    rclpy.init()
    client = Cameras()
    yield client
    client.node.destroy_node()
    rclpy.shutdown()


@pytest.fixture(scope='module')
def engine(checkpoint_path):
    """Load the node's engine, to run one frame at a time: what a one-camera node does."""
    return load_engine(checkpoint_path, backend='onnxruntime', device='cpu')


def test_every_output_carries_its_own_frames_header_and_the_one_frame_result(cameras, engine):
    def enough() -> bool:
        return all(len(cameras.complete(camera)) >= 3 for camera in SENDERS)

    cameras.drive(list(SENDERS), enough, 'three complete frames of every sending camera')
    cameras.spin(1.0)  # outputs of frames still in flight
    for camera, ((height, width), _, _) in SENDERS.items():
        for output in OUTPUTS:
            for stamp, messages in cameras.received[(camera, output)].items():
                assert stamp in cameras.sent[camera], (camera, output, stamp)
                assert len(messages) == 1, (camera, output, stamp)
                assert messages[0].header.frame_id == f'{camera}_optical_frame'
        for stamp in sorted(cameras.complete(camera)):
            expected = engine.predict(cameras.sent[camera][stamp])
            outputs = {output: cameras.received[(camera, output)][stamp][0]
                       for output in OUTPUTS}
            labels = image_to_array(outputs['segmentation'])
            depth = image_to_array(outputs['depth/image'])
            assert labels.shape == (height, width) and depth.shape == (height, width)
            assert (labels == expected.labels).mean() > 0.999
            np.testing.assert_allclose(depth, expected.depth, rtol=1e-4, atol=1e-5)
            cloud = pointcloud2_to_array(outputs['points'])
            assert cloud.shape[0] * cloud.shape[1] == height * width
            assert outputs['camera_info'].k[2] == pytest.approx(width / 2)


def test_a_camera_that_stops_or_never_sends_holds_up_no_other(cameras):
    last = {camera: max(cameras.sent[camera], default=0) for camera in SENDERS}

    def others_served() -> bool:
        return all(sum(stamp > last[camera] for stamp in cameras.complete(camera)) >= 2
                   for camera in ('front', 'left'))

    cameras.drive(['front', 'left'], others_served, 'two complete frames of front and left '
                  'sent after right stopped')
    assert max(cameras.sent['right']) == last['right']  # right really stopped


def test_each_camera_has_its_own_status_on_diagnostics(cameras, node_process):
    statuses = cameras.statuses()
    prefix = f'{NAMESPACE}/mtl_perception: perception/'
    assert set(statuses) == {prefix + camera for camera in CAMERAS}
    for camera in CAMERAS:
        status = statuses[prefix + camera]
        values = {kv.key: kv.value for kv in status.values}
        assert values['camera'] == camera
        assert values['image_topic'] == f'{NAMESPACE}/{camera}/image'
        if camera == SILENT:
            assert status.level == DiagnosticStatus.WARN
            assert status.message.startswith('no image for')
            assert (values['frames_received'], values['frames_processed']) == ('0', '0')
            continue
        received, processed = int(values['frames_received']), int(values['frames_processed'])
        assert len(cameras.complete(camera)) <= processed <= received <= len(cameras.sent[camera])
        assert int(values['frames_dropped']) <= received - processed
        assert 1.0 <= float(values['frames_per_pass_mean']) <= 2.0  # front and left share
        assert float(values['latency_p50_ms']) > 0.0


def test_the_ready_line_names_every_cameras_topic(node_process):
    node_process.send_signal(signal.SIGTERM)
    output, _ = node_process.communicate(timeout=300)
    ready = [line for line in output.splitlines() if 'ready: model' in line]
    assert len(ready) == 1
    assert ready[0].rstrip().endswith(
        'subscribed to ' + ', '.join(f'{NAMESPACE}/{camera}/image' for camera in CAMERAS)
        + f' ({len(CAMERAS)} cameras, one network)')
    assert node_process.returncode == 0


def test_a_lifecycle_node_takes_other_cameras_while_unconfigured(checkpoint_path):
    context = rclpy.Context()
    rclpy.init(context=context)
    node = PerceptionLifecycleNode(context=context, parameter_overrides=[
        Parameter('model', value=str(checkpoint_path)), Parameter('device', value='cpu'),
        Parameter('cameras', value=['front', 'left'])])
    try:
        node.trigger_configure()
        node.trigger_activate()
        assert {s.topic_name for s in node.subscriptions} == {
            '/front/image', '/front/camera_info', '/left/image', '/left/camera_info'}
        assert '/mtl_perception/left/points' in {p.topic_name for p in node.publishers}
        node.trigger_deactivate()
        node.trigger_cleanup()
        assert node.set_parameters([Parameter('cameras', value=['rear'])])[0].successful
        node.trigger_configure()
        node.trigger_activate()
        assert {s.topic_name for s in node.subscriptions} == {'/rear/image',
                                                              '/rear/camera_info'}
        published = {p.topic_name for p in node.publishers}
        assert '/mtl_perception/rear/points' in published
        assert not {'/mtl_perception/front/points', '/mtl_perception/left/points'} & published
        refused = node.set_parameters([Parameter('cameras', value=['front'])])[0]
        assert not refused.successful and 'cleanup' in refused.reason  # configured: fixed
    finally:
        node.trigger_shutdown()
        node.destroy_node()
        rclpy.shutdown(context=context)
