# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""mtl_process_bag writes the node's outputs for every image of a bag, and scores depth."""

from __future__ import annotations

import json
import logging
from pathlib import Path
import shutil
import signal

import cv2
from mtl_perception.formats.ros_clouds import pointcloud2_to_array
from mtl_perception.formats.ros_images import image_to_array
from mtl_perception.inference import Predictor
from mtl_perception.ros.conversions import array_to_image
from mtl_perception.ros.process_bag import main
from mtl_perception.synthetic import render_frame
from mtl_perception.synthetic.kitti_layout import write_kitti_drive
from mtl_perception.tools.kitti_to_bag import main as kitti_to_bag, optical_frame, TYPESTORE
import numpy as np
import pytest
from rclpy.serialization import deserialize_message, serialize_message
from ros_fixtures import start_command
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from sensor_msgs.msg import CameraInfo, Image, PointCloud2
from std_msgs.msg import Header


@pytest.fixture(scope='module')
def bag(tmp_path_factory):
    """Convert a three-frame synthetic camera-only drive with depth ground truth into a bag.

    (Camera only: the damage tests below damage the middle of the file, which must hold
    camera messages; test_lidar_scoring covers drives with a LiDAR.)
    """
    root = tmp_path_factory.mktemp('process')
    drive = write_kitti_drive(root, seed=8, frames=3, width=64, height=24, sensors=False,
                              progress=False)
    assert kitti_to_bag([str(drive), str(root / 'in'), '--depth-root', str(root / 'depth'),
                         '--no-progress']) == 0
    return root / 'in', drive


@pytest.mark.parametrize('backend', ['torch', 'onnxruntime'])
def test_every_image_gets_the_four_outputs_with_its_header_and_depth_is_scored(
        bag, tmp_path, checkpoint_path, backend):
    in_bag, drive = bag
    out_bag = tmp_path / 'out'
    assert main([str(in_bag), str(out_bag), '--model', str(checkpoint_path), '--device', 'cpu',
                 '--point-stride', '1', '--no-progress', '--backend', backend]) == 0
    kinds = {'/mtl_perception/segmentation': Image, '/mtl_perception/segmentation/color': Image,
             '/mtl_perception/depth/image': Image, '/mtl_perception/points': PointCloud2}
    received = {topic: [] for topic in kinds}
    with Reader(out_bag) as reader:
        for connection, stamp, raw in reader.messages():
            received[connection.topic].append(
                (stamp, deserialize_message(bytes(raw), kinds[connection.topic])))
    assert {topic: len(items) for topic, items in received.items()} == dict.fromkeys(kinds, 3)
    stamp, segmentation = received['/mtl_perception/segmentation'][1]
    assert segmentation.header.frame_id == optical_frame(2)
    assert segmentation.header.stamp.sec * 10**9 + segmentation.header.stamp.nanosec == stamp
    rgb = cv2.imread(str(drive / 'image_02' / 'data' / '0000000001.png'))[:, :, ::-1].copy()
    expected = Predictor.from_checkpoint(checkpoint_path, device='cpu').predict(rgb)
    assert (image_to_array(segmentation) != expected.labels).mean() < 1e-3
    cloud = pointcloud2_to_array(received['/mtl_perception/points'][1][1])
    assert cloud.shape == (24, 64)
    report = json.loads((out_bag / 'metrics.json').read_text())
    assert report['frames'] == 3 and report['ground_truth_frames'] == 3
    assert set(report['metrics']) >= {'rmse', 'abs_rel', 'delta1'}
    assert np.isfinite(report['metrics']['rmse'])


def test_a_bag_without_image_raw_topics_is_reported(tmp_path, checkpoint_path, capsys, bag):
    assert main([str(bag[0]), str(tmp_path / 'out'), '--model', str(checkpoint_path),
                 '--image-topic', '/nope', '--no-progress']) == 2
    assert '/nope is not a sensor_msgs/Image topic of the bag' in capsys.readouterr().err


def _damaged_copy(bag: Path, target: Path, how: str) -> Path:
    """Copy a bag and damage it the way files get damaged."""
    if how == 'malformed message':
        with Reader(bag) as reader, Writer(target, version=8,
                                           storage_plugin=StoragePlugin.MCAP) as writer:
            connections = {c.id: writer.add_connection(c.topic, c.msgtype, typestore=TYPESTORE)
                           for c in reader.connections}
            damage = True
            for index, (connection, stamp, raw) in enumerate(reader.messages()):
                if damage and index >= 3 and connection.topic.endswith('image_raw'):
                    raw, damage = bytes(raw[:64]) + b'\xff' * 32, False
                writer.write(connections[connection.id], stamp, bytes(raw))
        return target
    shutil.copytree(bag, target)
    mcap = next(target.glob('*.mcap'))
    data = bytearray(mcap.read_bytes())
    if how == 'truncated':
        data = data[:len(data) // 2]
    elif how == 'empty':
        data = bytearray()
    else:  # random bytes inside
        middle, size = len(data) // 2, len(data) // 4
        data[middle:middle + size] = np.random.default_rng(0).integers(0, 256, size,
                                                                       dtype=np.uint8).tobytes()
    mcap.write_bytes(bytes(data))
    return target


@pytest.mark.parametrize('how', ['truncated', 'empty'])
def test_an_unreadable_bag_is_one_line_and_leaves_nothing(bag, tmp_path, checkpoint_path, capsys,
                                                          how):
    damaged = _damaged_copy(bag[0], tmp_path / 'damaged', how)
    assert main([str(damaged), str(tmp_path / 'out'), '--model', str(checkpoint_path),
                 '--device', 'cpu', '--no-progress']) == 2
    assert 'damaged: not a readable bag' in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ['damaged']


@pytest.mark.parametrize('how', ['malformed message', 'random bytes inside'])
def test_damage_inside_a_bag_is_reported_and_the_exit_code_says_incomplete(
        bag, tmp_path, checkpoint_path, capsys, how):
    damaged = _damaged_copy(bag[0], tmp_path / 'damaged', how)
    arguments = [str(damaged), str(tmp_path / 'out'), '--model', str(checkpoint_path),
                 '--device', 'cpu', '--no-progress']
    assert main(arguments) == 1
    error = capsys.readouterr().err
    assert 'output incomplete, the input is damaged' in error and '--skip-damaged' in error
    assert ('does not decode' in error) if how == 'malformed message' else (
        'could not be read' in error)
    assert not [p for p in tmp_path.iterdir() if '.partial-' in p.name]
    shutil.rmtree(tmp_path / 'out')
    assert main([*arguments, '--skip-damaged']) == 0
    with Reader(tmp_path / 'out') as reader:
        written = sum(c.msgcount for c in reader.connections
                      if c.topic == '/mtl_perception/segmentation')
    assert written < 3


def _camera_bag(target: Path, frames: list[Image], info: CameraInfo | None) -> Path:
    """Write a bag of ``frames`` on /cam/image_raw (and ``info`` before each on camera_info)."""
    with Writer(target, version=8, storage_plugin=StoragePlugin.MCAP) as writer:
        images = writer.add_connection('/cam/image_raw', 'sensor_msgs/msg/Image',
                                       typestore=TYPESTORE)
        infos = writer.add_connection('/cam/camera_info', 'sensor_msgs/msg/CameraInfo',
                                      typestore=TYPESTORE)
        for index, frame in enumerate(frames):
            stamp = (index + 1) * 10**8
            frame.header = Header(frame_id='cam')
            frame.header.stamp.nanosec = stamp
            if info is not None:
                info.header = frame.header
                writer.write(infos, stamp, serialize_message(info))
            writer.write(images, stamp, serialize_message(frame))
    return target


def _street_frames(count: int) -> list[Image]:
    return [array_to_image(render_frame(seed, width=64, height=24).rgb, 'rgb8', Header())
            for seed in range(count)]


def _written(bag: Path) -> dict[str, int]:
    with Reader(bag) as reader:
        return {c.topic.removeprefix('/mtl_perception/'): c.msgcount for c in reader.connections}


def _info(width: int, height: int) -> CameraInfo:
    return CameraInfo(width=width, height=height,
                      k=[60.0, 0.0, (width - 1) / 2, 0.0, 60.0, (height - 1) / 2, 0.0, 0.0, 1.0])


def test_an_odd_width_yuv_frame_is_skipped_by_name_and_the_good_frames_are_kept(
        tmp_path, checkpoint_path, caplog):
    odd = Image(height=24, width=63, encoding='yuv422', step=126, data=bytes(24 * 126))
    frames = [*_street_frames(2), odd, *_street_frames(2)]
    bag = _camera_bag(tmp_path / 'in', frames, _info(64, 24))
    with caplog.at_level(logging.WARNING):
        assert main([str(bag), str(tmp_path / 'out'), '--model', str(checkpoint_path),
                     '--device', 'cpu', '--no-progress']) == 0
    assert 'yuv422 (YUV 4:2:2) image must have an even width, this one is 63 wide' in caplog.text
    assert 'Traceback' not in caplog.text
    assert _written(tmp_path / 'out') == {'segmentation': 4, 'segmentation/color': 4,
                                          'depth/image': 4,
                                          'points': 4}


@pytest.mark.parametrize(('info', 'reason'), [
    (None, 'no CameraInfo on /cam/camera_info'),
    (_info(64, 64), 'camera_info is for 64x64 images but the image is 64x24 (another aspect '
                    'ratio)'),
])
def test_frames_without_fitting_camera_info_get_outputs_without_points_and_say_why(
        tmp_path, checkpoint_path, caplog, info, reason):
    bag = _camera_bag(tmp_path / 'in', _street_frames(3), info)
    with caplog.at_level(logging.WARNING):
        assert main([str(bag), str(tmp_path / 'out'), '--model', str(checkpoint_path),
                     '--device', 'cpu', '--no-progress']) == 0
    assert caplog.text.count(reason) == 1
    assert _written(tmp_path / 'out') == {'segmentation': 3, 'segmentation/color': 3,
                                          'depth/image': 3,
                                          'points': 0}


def test_a_bag_of_which_no_image_can_be_processed_exits_1_and_leaves_nothing(
        tmp_path, checkpoint_path, capsys):
    odd = Image(height=24, width=63, encoding='yuv422', step=126, data=bytes(24 * 126))
    bag = _camera_bag(tmp_path / 'in', [odd, odd], _info(64, 24))
    assert main([str(bag), str(tmp_path / 'out'), '--model', str(checkpoint_path),
                 '--device', 'cpu', '--no-progress']) == 1
    assert 'nothing written: none of the 2 image(s) on /cam/image_raw could be processed' in \
        capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ['in']


@pytest.mark.parametrize(('point', 'number', 'complete'), [
    ('start', signal.SIGTERM, False),  # before its modules are imported
    ('frame 1', signal.SIGINT, False),  # while it writes
    ('frame 2', signal.SIGTERM, False),
    ('written', signal.SIGTERM, True),  # after the summary: the output is already whole
])
def test_a_signal_at_any_point_stops_it_with_one_line_and_no_half_written_bag(
        bag, tmp_path, checkpoint_path, point, number, complete):
    out_bag = tmp_path / 'out'
    process = start_command('mtl_process_bag', str(bag[0]), str(out_bag), '--model',
                            str(checkpoint_path), '--device', 'cpu', '--backend', 'torch',
                            '--no-progress', hold=point)
    process.wait_for(f'holding at {point}')
    process.signal(number)
    code, output = process.finish()
    assert code == 130, output
    when = ' before it started' if point == 'start' else ''
    assert output.splitlines()[-1] == f'mtl_process_bag: stopped by {number.name}{when}', output
    assert 'Traceback' not in output
    assert sorted(path.name for path in tmp_path.iterdir()) == (['out'] if complete else [])
    if complete:
        with Reader(out_bag) as reader:
            assert reader.message_count == 12
