# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""mtl_process_bag writes the node's outputs for every image of a bag, and scores depth."""

from __future__ import annotations

import json
from pathlib import Path
import shutil

import cv2
from mtl_perception.formats.ros_clouds import pointcloud2_to_array
from mtl_perception.formats.ros_images import image_to_array
from mtl_perception.inference import Predictor
from mtl_perception.ros.process_bag import main
from mtl_perception.synthetic.kitti_layout import write_kitti_drive
from mtl_perception.tools.kitti_to_bag import main as kitti_to_bag, optical_frame, TYPESTORE
import numpy as np
import pytest
from rclpy.serialization import deserialize_message
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from sensor_msgs.msg import Image, PointCloud2


@pytest.fixture(scope='module')
def bag(tmp_path_factory):
    """Convert a three-frame synthetic drive with depth ground truth into a bag."""
    root = tmp_path_factory.mktemp('process')
    drive = write_kitti_drive(root, seed=8, frames=3, width=64, height=24, progress=False)
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
             '/mtl_perception/depth': Image, '/mtl_perception/points': PointCloud2}
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
