# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Both launch files run for real through ``launch`` and ``launch_ros``, headless (rviz off).

Neither package is on PyPI, so this module is skipped where ``launch_ros`` cannot be
imported; docs/ros_workspace.md says how it was run against their Humble and Jazzy sources.
The launch files come from the installed share folder (``colcon build``), as ``ros2 launch``
takes them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip('launch_ros')
from ament_index_python.packages import (  # noqa: E402,I100
    get_package_share_directory, PackageNotFoundError)
from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from mtl_perception.ros.conversions import array_to_image  # noqa: E402
from mtl_perception.synthetic import render_frame  # noqa: E402
import rclpy  # noqa: E402
from rclpy.node import Node  # noqa: E402
from rclpy.qos import qos_profile_sensor_data, QoSProfile, ReliabilityPolicy  # noqa: E402
from ros_fixtures import domain_id, kitti_bag, ros_domain  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image, PointCloud2  # noqa: E402
from std_msgs.msg import Header  # noqa: E402

RUNNER = """
import sys
from launch import LaunchService
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
path, *pairs = sys.argv[1:]
service = LaunchService()
service.include_launch_description(IncludeLaunchDescription(
    PythonLaunchDescriptionSource(path),
    launch_arguments=[tuple(pair.split(':=', 1)) for pair in pairs]))
sys.exit(service.run())
"""


@pytest.fixture(scope='module')
def share():
    """Find the installed launch files, as ``ros2 launch`` does."""
    try:
        return get_package_share_directory('mtl_perception')
    except PackageNotFoundError:
        pytest.skip('mtl_perception is not installed in an ament prefix (colcon build)')


@pytest.fixture(scope='module')
def domain():
    """Initialise rclpy on a domain of its own."""
    with ros_domain(domain_id('launch_run')) as chosen:
        yield chosen


def _launch(share: str, name: str, *arguments: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, '-c', RUNNER, os.path.join(share, 'launch', name), *arguments],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def _stop(process: subprocess.Popen) -> tuple[int, str]:
    """Interrupt the launch as Ctrl-C does and return its exit code and output."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
    try:
        output = process.communicate(timeout=300)[0]
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output = process.communicate()[0]
    return process.returncode, output


def _spin_until(node: Node, done, seconds: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline and process.poll() is None:
        rclpy.spin_once(node, timeout_sec=0.05)


def test_the_perception_launch_brings_the_node_up_in_its_namespace_on_the_given_topics(
        share, domain):
    process = _launch(share, 'perception.launch.py', 'namespace:=front', 'rviz:=false',
                      'device:=cpu', 'image_topic:=/launch_test/image',
                      'camera_info_topic:=/launch_test/camera_info')
    node = Node('launch_test_camera')
    clouds, labels = [], []
    node.create_subscription(PointCloud2, '/front/mtl_perception/points', clouds.append,
                             QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE))
    node.create_subscription(Image, '/front/mtl_perception/segmentation', labels.append, 5)
    image = node.create_publisher(Image, '/launch_test/image', qos_profile_sensor_data)
    info = node.create_publisher(CameraInfo, '/launch_test/camera_info', qos_profile_sensor_data)
    frame = render_frame(1_000_321, width=160, height=48)
    k = frame.intrinsics
    deadline = time.monotonic() + 240
    try:
        while not (clouds and labels) and time.monotonic() < deadline and (
                process.poll() is None):
            header = Header(frame_id='camera_optical_frame')
            header.stamp = node.get_clock().now().to_msg()
            info.publish(CameraInfo(header=header, width=160, height=48,
                                    k=[k.fx, 0.0, k.cx, 0.0, k.fy, k.cy, 0.0, 0.0, 1.0]))
            image.publish(array_to_image(frame.rgb, 'rgb8', header))
            _spin_until(node, lambda: bool(clouds and labels), 0.2, process)
    finally:
        node.destroy_node()
        code, output = _stop(process)
    assert clouds and labels, output[-3000:]
    assert (clouds[0].height, clouds[0].width) == (24, 80)  # config/perception.yaml: stride 2
    assert 'subscribed to /launch_test/image' in output
    assert code == 0, output[-3000:]


def test_several_cameras_get_their_topics_from_the_patterns_and_publish_apart(share, domain):
    process = _launch(share, 'perception.launch.py', 'namespace:=car', 'rviz:=false',
                      'device:=cpu', 'cameras:=front,left',
                      'image_topic:=/car_cams/{camera}/image_rect',
                      'camera_info_topic:=/car_cams/{camera}/camera_info')
    node = Node('launch_test_cameras')
    clouds = {camera: [] for camera in ('front', 'left')}
    for camera, received in clouds.items():
        node.create_subscription(PointCloud2, f'/car/mtl_perception/{camera}/points',
                                 received.append,
                                 QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE))
    images = {camera: node.create_publisher(Image, f'/car_cams/{camera}/image_rect',
                                            qos_profile_sensor_data) for camera in clouds}
    infos = {camera: node.create_publisher(CameraInfo, f'/car_cams/{camera}/camera_info',
                                           qos_profile_sensor_data) for camera in clouds}
    frame = render_frame(1_000_322, width=160, height=48)
    k = frame.intrinsics
    deadline = time.monotonic() + 240
    try:
        while not all(clouds.values()) and time.monotonic() < deadline and (
                process.poll() is None):
            for camera in clouds:
                header = Header(frame_id=f'{camera}_optical_frame')
                header.stamp = node.get_clock().now().to_msg()
                infos[camera].publish(CameraInfo(
                    header=header, width=160, height=48,
                    k=[k.fx, 0.0, k.cx, 0.0, k.fy, k.cy, 0.0, 0.0, 1.0]))
                images[camera].publish(array_to_image(frame.rgb, 'rgb8', header))
            _spin_until(node, lambda: all(clouds.values()), 0.2, process)
    finally:
        node.destroy_node()
        code, output = _stop(process)
    assert all(clouds.values()), output[-3000:]
    for camera, received in clouds.items():
        assert received[0].header.frame_id == f'{camera}_optical_frame'
    assert ('subscribed to /car_cams/front/image_rect, /car_cams/left/image_rect' in output)
    assert code == 0, output[-3000:]


def test_several_cameras_on_one_topic_are_refused_in_one_message(share):
    process = _launch(share, 'perception.launch.py', 'rviz:=false', 'cameras:=front,left',
                      'image_topic:=/camera/image_rect')
    output = process.communicate(timeout=120)[0]
    assert process.returncode != 0, output[-3000:]
    assert 'image_topic:=/camera/image_rect gives every camera the same topic' in output
    assert 'ready: model' not in output


def _ready_line(process: subprocess.Popen, seconds: float = 240) -> str:
    """Read the launch's output until the node's ready line (or the launch ends)."""
    deadline = time.monotonic() + seconds
    for line in process.stdout:
        if 'ready: model ' in line or time.monotonic() > deadline:
            return line
    return ''


@pytest.mark.parametrize(('arguments', 'expected_backend'), [
    ((), 'torch'),  # the params file wins over the launch arguments' defaults
    (('backend:=onnxruntime',), 'onnxruntime'),  # an argument given wins over the file
])
def test_the_params_file_wins_over_defaults_and_an_explicit_argument_wins_over_the_file(
        share, domain, tmp_path, checkpoint_path, arguments, expected_backend):
    params = tmp_path / 'robot.yaml'
    params.write_text(f'/**:\n  ros__parameters:\n    model: {checkpoint_path}\n'
                      '    backend: torch\n    device: cpu\n')
    process = _launch(share, 'perception.launch.py', 'rviz:=false', f'params_file:={params}',
                      'namespace:=precedence', *arguments)
    try:
        ready = _ready_line(process)
    finally:
        code, output = _stop(process)
    assert f'ready: model {checkpoint_path}' in ready, output[-3000:]
    assert f'on {expected_backend}' in ready, ready


@pytest.fixture(scope='module')
def replay_bag(tmp_path_factory):
    """Convert a four-frame synthetic KITTI drive into a bag."""
    return kitti_bag(tmp_path_factory.mktemp('replay'), seed=9, frames=4, width=160,
                     height=48)[0]


def test_the_kitti_replay_plays_only_once_the_node_is_ready_so_no_frame_is_lost(
        share, domain, replay_bag):
    node = Node('launch_test_replay')
    counts = []

    def on_diagnostics(message: DiagnosticArray) -> None:
        for status in message.status:
            if status.name.endswith('mtl_perception: perception'):
                counts.append({value.key: value.value for value in status.values})

    node.create_subscription(DiagnosticArray, '/diagnostics', on_diagnostics, 10)
    process = _launch(share, 'kitti_replay.launch.py', f'bag:={replay_bag}', 'rviz:=false',
                      'device:=cpu', 'player:=mtl_bag_play', 'rate:=0.5')
    try:
        _spin_until(node, lambda: bool(counts) and counts[-1]['frames_received'] == '4', 240,
                    process)
    finally:
        node.destroy_node()
        code, output = _stop(process)
    assert 'perception_node is ready: playing the bag' in output, output[-3000:]
    assert output.index('ready: model') < output.index('[mtl_bag_play-'), output[-3000:]
    # every frame the bag holds reached the node (none played into a node still loading)
    assert counts and counts[-1]['frames_received'] == '4', (counts[-1:], output[-3000:])
    assert code == 0, output[-3000:]


@pytest.mark.parametrize('arguments, message', [
    ((), "missing required argument 'bag'"),
    (('bag:=/nowhere', 'player:=vlc'), "player must be one of ros2, mtl_bag_play, got 'vlc'"),
])
def test_the_kitti_replay_refuses_to_start_without_a_bag_or_with_an_unknown_player(
        share, arguments, message):
    process = _launch(share, 'kitti_replay.launch.py', 'rviz:=false', *arguments)
    output = process.communicate(timeout=120)[0]
    assert process.returncode != 0 and message in output, output[-3000:]
    assert 'ready: model' not in output
