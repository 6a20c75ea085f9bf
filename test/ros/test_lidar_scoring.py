# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Depth scored against a drive's LiDAR: mtl_process_bag --lidar-topic and mtl_eval kitti-raw."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
from mtl_perception.default_model import default_model_path
from mtl_perception.engines.torch_engine import Predictor
from mtl_perception.metrics import DepthMetrics
from mtl_perception.ros.process_bag import main
from mtl_perception.synthetic.kitti_layout import write_kitti_drive
from mtl_perception.tools.kitti_to_bag import main as kitti_to_bag
from mtl_perception.training.evaluate import main as evaluate_main
import numpy as np
import pytest
import torch

WIDTH, HEIGHT, FRAMES = 320, 96, 3
LIDAR = '/kitti/velo/pointcloud'


@pytest.fixture(scope='module')
def drive(tmp_path_factory) -> tuple[Path, Path]:
    """Render a complete synthetic KITTI drive with camera, LiDAR, OXTS, depth; convert it."""
    root = tmp_path_factory.mktemp('lidar_scoring')
    drive = write_kitti_drive(root / 'raw', seed=21, frames=FRAMES, width=WIDTH, height=HEIGHT,
                              cameras=(2,), progress=False)
    assert kitti_to_bag([str(drive), str(root / 'bag'), '--depth-root',
                         str(root / 'raw' / 'depth'), '--no-progress']) == 0
    return drive, root / 'bag'


@pytest.fixture(scope='module')
def scored(drive, tmp_path_factory) -> Path:
    """mtl_process_bag --lidar-topic on the drive's bag, with the default weights."""
    output = tmp_path_factory.mktemp('scored') / 'out'
    assert main([str(drive[1]), str(output), '--lidar-topic', LIDAR, '--device', 'cpu',
                 '--backend', 'torch', '--no-progress']) == 0
    return output


def _calibration(path: Path) -> dict[str, np.ndarray]:
    values = {}
    for line in path.read_text().splitlines():
        key, _, rest = line.partition(':')
        try:
            values[key] = np.array([float(v) for v in rest.split()])
        except ValueError:
            continue
    return values


def _lidar_pixels(drive: Path, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, columns and depth of the nearest return per pixel, by the devkit's formula."""
    cam = _calibration(drive.parent / 'calib_cam_to_cam.txt')
    velo = _calibration(drive.parent / 'calib_velo_to_cam.txt')
    rectify, to_camera = np.eye(4), np.eye(4)
    rectify[:3, :3] = cam['R_rect_00'].reshape(3, 3)
    to_camera[:3, :3], to_camera[:3, 3] = velo['R'].reshape(3, 3), velo['T']
    scan = np.fromfile(drive / 'velodyne_points' / 'data' / f'{index:010d}.bin',
                       np.float32).reshape(-1, 4)
    camera = (rectify @ to_camera @ np.c_[scan[:, :3], np.ones(len(scan))].T).T
    image = (cam['P_rect_02'].reshape(3, 4) @ np.c_[camera[:, :3], np.ones(len(scan))].T).T
    depth = image[:, 2]
    cols = np.floor(image[:, 0] / depth + 0.5).astype(int)
    rows = np.floor(image[:, 1] / depth + 0.5).astype(int)
    keep = (depth > 1e-3) & (depth < 80) & (cols >= 0) & (cols < WIDTH) & (rows >= 0) & (
        rows < HEIGHT)
    nearest = np.full((HEIGHT, WIDTH), np.inf)
    np.minimum.at(nearest, (rows[keep], cols[keep]), depth[keep])
    found = np.nonzero(np.isfinite(nearest))
    return found[0], found[1], nearest[found]


def test_lidar_scores_agree_with_the_dense_ground_truth_on_the_same_pixels(drive, scored):
    raw, _ = drive
    result = json.loads((scored / 'metrics.json').read_text())['lidar']
    predictor = Predictor.from_checkpoint(default_model_path(), device='cpu')
    dense = DepthMetrics(max_depth=80.0)
    pixels = 0
    for index in range(FRAMES):
        rows, cols, _ = _lidar_pixels(raw, index)
        rgb = cv2.imread(str(raw / 'image_02' / 'data' / f'{index:010d}.png'))[:, :, ::-1]
        predicted = predictor.predict(rgb.copy()).depth
        truth_path = (raw.parents[1] / 'depth' / 'train' / raw.name / 'proj_depth'
                      / 'groundtruth' / 'image_02' / f'{index:010d}.png')
        truth = cv2.imread(str(truth_path), cv2.IMREAD_UNCHANGED) / 256.0
        dense.update(torch.from_numpy(truth[rows, cols]), torch.from_numpy(predicted[rows, cols]))
        pixels += len(rows)
    expected = dense.compute()
    assert result['frames'] == FRAMES and result['frames_not_scored'] == 0
    assert result['pixels'] == pytest.approx(pixels, rel=0.005)
    for name in ('abs_rel', 'delta1', 'delta2'):
        assert result['metrics'][name] == pytest.approx(expected[name], abs=0.01), name
    # RMSE weighs the few pixels at object edges where the LiDAR, 0.3 m from the camera,
    # sees past what the camera sees (parallax): its metres differ there, not its shares
    assert result['metrics']['rmse'] == pytest.approx(expected['rmse'], rel=0.2)
    assert result['median_scaled']['abs_rel'] != result['metrics']['abs_rel']
    assert result['depth_range_m'] == [1e-3, 80.0] and result['crop'] == 'none'


def test_per_frame_rows_and_a_plot_over_time_are_written(scored):
    with (scored / 'lidar_depth.csv').open() as stream:
        rows = list(csv.DictReader(stream))
    assert [int(row['stamp_ns']) for row in rows] == [
        1317042145_000000000 + i * 100_000_000 for i in range(FRAMES)]
    assert all(0 < float(row['abs_rel']) < 1 and float(row['median_scale']) > 0 for row in rows)
    picture = cv2.imread(str(scored / 'lidar_depth.png'))
    assert picture is not None and picture.shape[1] >= 600


def test_mtl_eval_on_the_raw_drive_gives_the_same_figures_through_the_calibration_files(
        drive, scored, tmp_path):
    raw, _ = drive
    output = tmp_path / 'eval.json'
    assert evaluate_main(['--checkpoint', str(default_model_path()), '--dataset', 'kitti-raw',
                          '--root', str(raw), '--device', 'cpu', '--json', '--output',
                          str(output)]) == 0
    figures = json.loads(output.read_text())
    lidar = json.loads((scored / 'metrics.json').read_text())['lidar']
    for name in ('abs_rel', 'rmse', 'delta1'):
        assert figures[name] == pytest.approx(lidar['metrics'][name], rel=1e-6), name
        assert figures['median_scaled'][name] == pytest.approx(lidar['median_scaled'][name],
                                                               rel=1e-6), name
    assert figures['frames'] == FRAMES


def test_a_crop_scores_fewer_pixels_and_says_which(drive, tmp_path):
    assert main([str(drive[1]), str(tmp_path / 'out'), '--lidar-topic', LIDAR, '--crop',
                 'garg', '--device', 'cpu', '--backend', 'torch', '--no-progress']) == 0
    cropped = json.loads((tmp_path / 'out' / 'metrics.json').read_text())['lidar']
    assert cropped['crop'] == 'garg'
    inside = 0
    for index in range(FRAMES):  # Garg et al.'s crop, as the monodepth evaluations write it
        rows, cols, _ = _lidar_pixels(drive[0], index)
        inside += int(((rows >= int(0.40810811 * HEIGHT)) & (rows < int(0.99189189 * HEIGHT))
                       & (cols >= int(0.03594771 * WIDTH))
                       & (cols < int(0.96405229 * WIDTH))).sum())
    assert cropped['pixels'] == pytest.approx(inside, rel=0.005)


@pytest.mark.parametrize('topic, message', [
    ('/kitti/oxts/imu', 'is not a PointCloud2 topic of the bag (PointCloud2 topics: '
                        "['/kitti/velo/pointcloud'])"),
    ('/velodyne_points', 'is not a PointCloud2 topic')])
def test_a_wrong_lidar_topic_is_one_line_and_no_output(drive, tmp_path, capsys, topic, message):
    assert main([str(drive[1]), str(tmp_path / 'out'), '--lidar-topic', topic, '--device',
                 'cpu', '--no-progress']) == 2
    error = capsys.readouterr().err
    assert message in error and error.count('\n') == 1
    assert not list(tmp_path.iterdir())


def test_a_scan_that_does_not_decode_is_named_as_damage_and_the_rest_is_scored(
        drive, tmp_path, capsys):
    from mtl_perception.tools.kitti_to_bag import TYPESTORE
    from rosbags.rosbag2 import Reader, StoragePlugin, Writer
    damaged = tmp_path / 'damaged'
    with Reader(drive[1]) as reader, Writer(damaged, version=8,
                                            storage_plugin=StoragePlugin.MCAP) as writer:
        connections = {c.id: writer.add_connection(c.topic, c.msgtype, typestore=TYPESTORE)
                       for c in reader.connections}
        scans = 0
        for connection, stamp, raw in reader.messages():
            if connection.topic == LIDAR:
                scans += 1
                if scans == 2:
                    raw = bytes(raw[:40])
            writer.write(connections[connection.id], stamp, bytes(raw))
    arguments = [str(damaged), str(tmp_path / 'out'), '--lidar-topic', LIDAR, '--device',
                 'cpu', '--backend', 'onnxruntime', '--no-progress']
    assert main(arguments) == 1
    error = capsys.readouterr().err
    assert f'on {LIDAR}' in error and 'does not decode' in error and 'Traceback' not in error
    assert main([arguments[0], str(tmp_path / 'kept'), *arguments[2:], '--skip-damaged']) == 0
    lidar = json.loads((tmp_path / 'kept' / 'metrics.json').read_text())['lidar']
    # the frame whose scan is damaged has no other within 50 ms (they are 100 ms apart)
    assert (lidar['frames'], lidar['frames_not_scored']) == (FRAMES - 1, 1)
