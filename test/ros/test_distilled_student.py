# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""From a bag to a deployed student: distil with teachers, train on the template, run the node."""

from __future__ import annotations

import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import time

from mtl_perception.formats.ros_images import image_to_array
from mtl_perception.inference import Predictor
from mtl_perception.labels import get_class_set
from mtl_perception.ros.conversions import array_to_image
from mtl_perception.synthetic import render_frame
import numpy as np
import pytest
import rclpy
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from ros_fixtures import domain_id, kitti_bag, ros_domain
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from teacher_fixtures import tiny_depth_anything, tiny_segformer

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = '/student_test'
SIZE = (64, 192)


def _run(*command: str, cwd: Path) -> None:
    result = subprocess.run([sys.executable, '-m', *command], cwd=cwd, capture_output=True,
                            text=True, timeout=900,
                            env={**os.environ, 'HF_HUB_OFFLINE': '1',
                                 'TORCH_HOME': str(cwd / 'torch_home')})
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope='module')
def student(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp('student')
    bag, _ = kitti_bag(work / 'drive', seed=77, frames=12, width=SIZE[1], height=SIZE[0])
    segformer = tiny_segformer(work / 'segformer')
    depth = tiny_depth_anything(work / 'depth', metric=True)
    _run('mtl_perception', 'mtl_distill', '--source', str(bag), '--image-topic',
         '/kitti/camera_color_left/image_raw', '--teacher-segmentation', str(segformer),
         '--teacher-depth', str(depth), '--classes', 'cityscapes_19', '--min-confidence', '0',
         '--output', 'distilled', '--no-progress', cwd=work)
    manifest = json.loads((work / 'distilled' / 'manifest.json').read_text())
    assert manifest['counts']['written'] == 12
    _run('mtl_perception', 'mtl_train', '--config', str(ROOT / 'config/train_distilled.yaml'),
         '--output', 'run', '--no-progress', '--set', f'data.input_size=[{SIZE[0]}, {SIZE[1]}]',
         '--set', f'data.base_size=[{SIZE[0]}, {SIZE[1]}]', '--set', 'data.crop_size=null',
         '--set', 'train.epochs=1', '--set', 'train.batch_size=2',
         '--set', 'train.max_steps_per_epoch=2', '--set', 'train.amp=false', cwd=work)
    return work / 'run' / 'best.pt'


def test_the_student_starts_from_the_shipped_weights_and_keeps_the_distilled_classes(student):
    metadata = Predictor.from_checkpoint(student, device='cpu').metadata
    assert metadata.class_names == get_class_set('cityscapes_19').names
    assert metadata.created_by['initialisation'].startswith('weights of ')
    assert 'segmentation_head' in metadata.created_by['initialisation']


def test_mtl_eval_scores_the_student_against_the_teachers_on_held_out_frames(student):
    result = subprocess.run(
        [sys.executable, '-m', 'mtl_perception', 'mtl_eval', '--checkpoint', str(student),
         '--dataset', 'distilled', '--root', str(student.parents[1] / 'distilled'), '--json',
         '--device', 'cpu'], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert 0 <= metrics['miou'] <= 1 and metrics['rmse'] > 0
    assert 'validation frames' in metrics['dataset']


def test_the_student_runs_in_perception_node_as_its_predictor_predicts(student):
    image = render_frame(5, width=SIZE[1], height=SIZE[0]).rgb
    expected = Predictor.from_checkpoint(student, device='cpu').predict(image)
    with ros_domain(domain_id('distilled_student')) as domain:
        node_process = subprocess.Popen(
            [sys.executable, '-m', 'mtl_perception', 'perception_node', '--ros-args', '-r',
             f'__ns:={NAMESPACE}', '-p', f'model:={student}', '-p', 'backend:=torch',
             '-p', 'device:=cpu'], env={**os.environ, 'ROS_DOMAIN_ID': domain},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        node = Node('student_client', namespace=NAMESPACE)
        try:
            received: dict[int, Image] = {}
            node.create_subscription(Image, 'mtl_perception/segmentation',
                                     lambda msg: received.setdefault(msg.header.stamp.sec, msg),
                                     10)
            publisher = node.create_publisher(Image, 'image', qos_profile_sensor_data)
            deadline, stamp = time.monotonic() + 180, 0
            while not received and time.monotonic() < deadline:
                assert node_process.poll() is None, 'perception_node exited'
                stamp += 1
                header = Header(frame_id='camera_optical_frame')
                header.stamp.sec = stamp
                publisher.publish(array_to_image(image, 'rgb8', header))
                step_end = time.monotonic() + 1.0
                while not received and time.monotonic() < step_end:
                    rclpy.spin_once(node, timeout_sec=0.05)
            assert received, 'no segmentation from the student within 180 s'
            labels = image_to_array(next(iter(received.values())))
            np.testing.assert_array_equal(labels, expected.labels)
        finally:
            node.destroy_node()
            node_process.send_signal(signal.SIGTERM)
            assert node_process.wait(timeout=300) == 0
