# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""mtl_bag_play publishes a bag's raw messages at recorded timing, with /clock, over DDS."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import cv2
from mtl_perception.formats.ros_images import image_to_rgb
from mtl_perception.tools.kitti_to_bag import camera_topics
import numpy as np
import pytest
import rclpy
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_fixtures import domain_id, kitti_bag, ros_domain
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image

FIRST_STAMP = 1317042145_000000000
TOPICS = camera_topics(2)


@pytest.fixture(scope='module')
def bag(tmp_path_factory):
    """Convert a five-frame synthetic KITTI drive into a bag."""
    return kitti_bag(tmp_path_factory.mktemp('play'), seed=6, frames=5, width=48, height=16)


@pytest.fixture(scope='module')
def domain():
    """Initialise rclpy on a domain of its own."""
    with ros_domain(domain_id('bag_play')) as chosen:
        yield chosen


def _play(domain_id, bag_path, *extra):
    node = Node('bag_play_test')
    qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
    images, infos, clocks = [], [], []
    node.create_subscription(Image, TOPICS['image'],
                             lambda m: images.append((time.monotonic(), m)), qos)
    node.create_subscription(CameraInfo, TOPICS['camera_info'], infos.append, qos)
    node.create_subscription(Clock, '/clock', clocks.append, 10)
    process = subprocess.Popen(
        [sys.executable, '-m', 'mtl_perception', 'mtl_bag_play', str(bag_path), '--delay', '0',
         '--wait-for-subscribers', '60', *extra],
        env={**os.environ, 'ROS_DOMAIN_ID': domain_id}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.02)
    for _ in range(20):
        rclpy.spin_once(node, timeout_sec=0.02)
    node.destroy_node()
    output = process.communicate(timeout=300)[0]
    assert process.returncode == 0, output
    return images, infos, clocks, output


def test_every_image_arrives_unchanged_at_the_recorded_pace_with_a_clock(bag, domain):
    bag_path, drive = bag
    images, infos, clocks, output = _play(domain, bag_path, '--clock', '50')
    assert [m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for _, m in images] == [
        FIRST_STAMP + i * 100_000_000 for i in range(5)]
    assert len(infos) == 5 and 'published 10 messages' in output
    expected = cv2.imread(str(drive / 'image_02' / 'data' / '0000000002.png'))[:, :, ::-1]
    np.testing.assert_array_equal(image_to_rgb(images[2][1]), expected)
    span = images[-1][0] - images[0][0]
    assert 0.35 < span < 4.0
    times = [c.clock.sec * 10**9 + c.clock.nanosec for c in clocks]
    assert times and times == sorted(times)
    assert FIRST_STAMP <= times[0] and times[-1] <= FIRST_STAMP + 600_000_000


def test_waiting_for_subscribers_names_the_topics_short_of_them(bag, domain):
    result = subprocess.run(
        [sys.executable, '-m', 'mtl_perception', 'mtl_bag_play', str(bag[0]), '--delay', '0',
         '--wait-for-subscribers', '0.5', '--topics', TOPICS['camera_info'], '--expect',
         f'{TOPICS["camera_info"]}:2'], capture_output=True, text=True, timeout=60,
        env={**os.environ, 'ROS_DOMAIN_ID': str(int(domain) % 100 + 1)})
    assert result.returncode == 0, result.stderr
    assert (f'too few subscribers after 0.5 s on: {TOPICS["camera_info"]}; playing anyway'
            in result.stderr + result.stdout)
    assert 'published 5 messages' in result.stderr + result.stdout


def test_a_malformed_expectation_is_reported(bag):
    result = subprocess.run([sys.executable, '-m', 'mtl_perception', 'mtl_bag_play', str(bag[0]),
                             '--expect', '/topic:many'], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and '--expect takes TOPIC:COUNT' in result.stderr


def test_rate_and_topic_selection(bag, domain):
    images, infos, _, output = _play(domain, bag[0], '--rate', '0.5', '--topics',
                                     TOPICS['image'])
    assert len(images) == 5 and not infos
    # 0.4 s of recording at half speed: the player's own sleeps take at least 0.8 s (a busy
    # machine only lengthens them; arrival times in this process would bunch up instead)
    played = float(re.search(r'published 5 messages from \S+ in ([0-9.]+) s', output).group(1))
    assert played >= 0.8


def test_a_missing_bag_is_reported(tmp_path):
    result = subprocess.run([sys.executable, '-m', 'mtl_perception', 'mtl_bag_play',
                             str(tmp_path / 'none'), '--delay', '0'],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and 'none not found' in result.stderr


def test_a_folder_that_is_not_a_bag_is_reported(tmp_path):
    (tmp_path / 'empty').mkdir()
    result = subprocess.run([sys.executable, '-m', 'mtl_perception', 'mtl_bag_play',
                             str(tmp_path / 'empty'), '--delay', '0'],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and 'cannot read bag' in result.stderr


@pytest.mark.parametrize(('args', 'message'), [
    (['--rate', 'nan'], "--rate: 'nan': must be a finite number > 0"),
    (['--rate', 'inf'], "--rate: 'inf': must be a finite number > 0"),
    (['--delay', '-1'], "--delay: '-1': must be a finite number >= 0"),
    (['--clock', '-5'], "--clock: '-5': must be a finite number >= 0"),
])
def test_bad_numbers_are_refused_with_one_line(bag, args, message):
    result = subprocess.run([sys.executable, '-m', 'mtl_perception', 'mtl_bag_play', str(bag[0]),
                             *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and message in result.stderr
    assert 'Traceback' not in result.stderr


def test_a_bag_damaged_inside_plays_what_it_can_and_says_it_is_incomplete(
        bag, tmp_path, domain):
    damaged = tmp_path / 'damaged'
    shutil.copytree(bag[0], damaged)
    mcap = next(damaged.glob('*.mcap'))
    data = bytearray(mcap.read_bytes())
    middle, size = len(data) // 2, len(data) // 4
    data[middle:middle + size] = np.random.default_rng(0).integers(0, 256, size,
                                                                   dtype=np.uint8).tobytes()
    mcap.write_bytes(bytes(data))
    result = subprocess.run(
        [sys.executable, '-m', 'mtl_perception', 'mtl_bag_play', str(damaged), '--delay', '0'],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, 'ROS_DOMAIN_ID': domain})
    assert result.returncode == 1
    assert 'damaged, playback incomplete' in result.stderr
    assert 'could not be read' in result.stderr and 'Traceback' not in result.stderr


def _recorded_qos_bag(path):
    """Write a bag as a best-effort camera and a latched camera_info publisher recorded it."""
    from rosbags.interfaces import (Qos, QosDurability, QosHistory, QosLiveliness,
                                    QosReliability, QosTime)
    from rosbags.rosbag2 import Writer
    from rclpy.serialization import serialize_message
    from mtl_perception.tools.kitti_to_bag import TYPESTORE

    def offered(reliability, durability):
        never = QosTime(sec=0, nsec=0)
        return [Qos(QosHistory.KEEP_LAST, 5, reliability, durability, never, never,
                    QosLiveliness.AUTOMATIC, never, False)]

    with Writer(path, version=8) as writer:
        image = writer.add_connection('/cam/image', 'sensor_msgs/msg/Image',
                                      typestore=TYPESTORE, offered_qos_profiles=offered(
                                          QosReliability.BEST_EFFORT, QosDurability.VOLATILE))
        info = writer.add_connection('/cam/info', 'sensor_msgs/msg/CameraInfo',
                                     typestore=TYPESTORE, offered_qos_profiles=offered(
                                         QosReliability.RELIABLE, QosDurability.TRANSIENT_LOCAL))
        for index in range(3):
            stamp = FIRST_STAMP + index * 100_000_000
            writer.write(image, stamp, serialize_message(Image(height=1, width=1,
                                                               encoding='mono8', step=1,
                                                               data=[index])))
            writer.write(info, stamp, serialize_message(CameraInfo(width=1, height=1)))


def test_topics_keep_their_recorded_qos_and_ros_args_remap_them(tmp_path, domain):
    from rclpy.qos import DurabilityPolicy, qos_profile_sensor_data
    _recorded_qos_bag(tmp_path / 'qos_bag')
    node = Node('bag_qos_test')
    images, infos = [], []
    node.create_subscription(Image, '/remapped/image', images.append, qos_profile_sensor_data)
    node.create_subscription(CameraInfo, '/cam/info', infos.append, QoSProfile(
        depth=10, durability=DurabilityPolicy.TRANSIENT_LOCAL))
    process = subprocess.Popen(
        [sys.executable, '-m', 'mtl_perception', 'mtl_bag_play', str(tmp_path / 'qos_bag'),
         '--delay', '0', '--wait-for-subscribers', '60', '--ros-args', '-r',
         '/cam/image:=/remapped/image'], env={**os.environ, 'ROS_DOMAIN_ID': domain},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    publishers = {}
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.02)
        for topic in ('/remapped/image', '/cam/info', '/cam/image'):
            publishers[topic] = publishers.get(topic) or node.get_publishers_info_by_topic(
                topic)
    for _ in range(20):
        rclpy.spin_once(node, timeout_sec=0.02)
    node.destroy_node()
    output = process.communicate(timeout=300)[0]
    assert process.returncode == 0, output
    assert [bytes(m.data) for m in images] == [b'\x00', b'\x01', b'\x02'] and len(infos) == 3
    assert not publishers['/cam/image']  # remapped away
    image_qos = publishers['/remapped/image'][0].qos_profile
    info_qos = publishers['/cam/info'][0].qos_profile
    assert image_qos.reliability == ReliabilityPolicy.BEST_EFFORT
    assert info_qos.reliability == ReliabilityPolicy.RELIABLE
    assert info_qos.durability == DurabilityPolicy.TRANSIENT_LOCAL


def test_malformed_ros_args_are_refused_with_one_line(bag):
    result = subprocess.run([sys.executable, '-m', 'mtl_perception', 'mtl_bag_play', str(bag[0]),
                             '--ros-args', '-r', 'no-separator'], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith('mtl_bag_play: error: --ros-args')
    assert 'Traceback' not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize('signal_number', [signal.SIGINT, signal.SIGTERM])
def test_stopping_playback_with_a_signal_is_a_clean_exit(bag, domain, signal_number):
    node = Node('bag_signal_test')
    clocks = []
    node.create_subscription(Clock, '/clock', clocks.append, 10)
    process = subprocess.Popen(
        [sys.executable, '-m', 'mtl_perception', 'mtl_bag_play', str(bag[0]), '--delay', '0',
         '--rate', '0.02', '--clock'], env={**os.environ, 'ROS_DOMAIN_ID': domain},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while not clocks and time.monotonic() < deadline:  # playing (five frames take 20 s)
        rclpy.spin_once(node, timeout_sec=0.05)
    node.destroy_node()
    assert clocks
    process.send_signal(signal_number)
    output = process.communicate(timeout=300)[0]
    assert process.returncode == 0, output
    assert output.strip().splitlines()[-1].startswith(
        f'mtl_bag_play: stopped early by {signal_number.name}: published')
    assert 'Traceback' not in output and 'rosout' not in output, output


def test_a_complete_drive_plays_its_lidar_and_oxts_and_leaves_out_types_not_installed(
        tmp_path, domain):
    from geometry_msgs.msg import TwistStamped
    from sensor_msgs.msg import Imu, NavSatFix, PointCloud2
    bag_path, _ = kitti_bag(tmp_path, seed=6, frames=2, width=48, height=16, sensors=True)
    kinds = {TOPICS['image']: Image, TOPICS['camera_info']: CameraInfo,
             '/kitti/velo/pointcloud': PointCloud2, '/kitti/oxts/imu': Imu,
             '/kitti/oxts/gps/fix': NavSatFix, '/kitti/oxts/gps/vel': TwistStamped}
    try:
        from tf2_msgs.msg import TFMessage
        kinds['/tf'] = TFMessage
    except ImportError:
        TFMessage = None
    node = Node('bag_play_sensors_test')
    stamps = {topic: set() for topic in kinds}
    frames = {}

    def keep(topic):
        def on_message(message):
            header = message.header if hasattr(message, 'header') else message.transforms[0].header
            stamps[topic].add(header.stamp.sec * 10**9 + header.stamp.nanosec)
            frames[topic] = header.frame_id
        return on_message

    qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
    for topic, kind in kinds.items():
        node.create_subscription(kind, topic, keep(topic), qos)
    # looped, so that messages sent while DDS was still matching come round again: the test
    # waits for every recorded stamp on every topic, not for a lucky first pass
    process = subprocess.Popen(
        [sys.executable, '-m', 'mtl_perception', 'mtl_bag_play', str(bag_path), '--delay', '0',
         '--loop', '--wait-for-subscribers', '60'], env={**os.environ, 'ROS_DOMAIN_ID': domain},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    recorded = {FIRST_STAMP, FIRST_STAMP + 100_000_000}
    deadline = time.monotonic() + 120
    while (process.poll() is None and time.monotonic() < deadline
           and any(found != recorded for found in stamps.values())):
        rclpy.spin_once(node, timeout_sec=0.02)
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=60)[0]
    node.destroy_node()
    assert process.returncode == 0, output
    assert stamps == dict.fromkeys(kinds, recorded)
    assert frames['/kitti/velo/pointcloud'] == 'velo_link'
    assert frames['/kitti/oxts/imu'] == 'imu_link'
    if TFMessage is None:  # as ros2 bag play does: one line per topic left out, then play on
        for topic in ('/tf', '/tf_static'):
            assert (f'not playing {topic}: message type tf2_msgs/msg/TFMessage is not '
                    'installed') in output
