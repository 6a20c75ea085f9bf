# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The demo end to end (separate processes over DDS), and its cloud picture."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import cv2
from mtl_perception.visualize import render_cloud
import numpy as np
from ros_fixtures import domain_id, start_command


def test_a_point_straight_ahead_is_drawn_on_the_centre_column():
    picture = render_cloud(np.array([[0.0, 0.0, 10.0]]), np.array([[255, 0, 0]], np.uint8),
                           size=(100, 200))
    rows, columns = np.nonzero((picture == [255, 0, 0]).all(-1))
    assert set(columns.tolist()) == {100, 101}
    assert rows.size == 4


def test_points_behind_the_virtual_camera_are_not_drawn():
    picture = render_cloud(np.array([[0.0, 0.0, -30.0]]), np.array([[255, 0, 0]], np.uint8),
                           size=(100, 200))
    assert not (picture == [255, 0, 0]).all(-1).any()


def test_the_demo_runs_the_chain_and_writes_every_result(tmp_path, checkpoint_path):
    env = {**os.environ, 'ROS_DOMAIN_ID': str(domain_id('demo'))}
    stale = tmp_path / 'outputs_bag' / 'from_an_earlier_run'
    stale.mkdir(parents=True)
    result = subprocess.run(
        [sys.executable, '-m', 'mtl_perception', 'mtl_demo', '--output', str(tmp_path),
         '--frames', '8', '--model', str(checkpoint_path)],
        capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for name in ('mosaic_000.png', 'drive.gif', 'cloud.ply', 'cloud.png', 'summary.json',
                 'perception_node.log'):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / 'outputs_bag' / 'metadata.yaml').is_file()
    assert not stale.exists()
    summary = json.loads((tmp_path / 'summary.json').read_text())
    assert summary['frames_published'] == 8
    assert 1 <= summary['frames_processed'] <= 8
    assert summary['latency_ms_p50'] > 0 and summary['device'] == 'cpu'
    mosaic = cv2.imread(str(tmp_path / 'mosaic_000.png'))
    assert mosaic.shape == (192, 3 * 640, 3)
    assert 'results in' in result.stdout


def test_a_signal_mid_demo_stops_its_processes_and_leaves_the_earlier_results(
        tmp_path, checkpoint_path):
    earlier = tmp_path / 'summary.json'
    earlier.write_text('{"from": "an earlier run"}\n')
    process = start_command('mtl_demo', '--output', str(tmp_path), '--frames', '4', '--model',
                            str(checkpoint_path), domain=domain_id('demo'),
                            hold='node started')
    process.wait_for('holding at node started', timeout=600)
    process.signal(signal.SIGTERM)
    code, output = process.finish()
    assert code == 130, output
    assert output.splitlines()[-1] == 'mtl_demo: stopped by SIGTERM'
    assert 'Traceback' not in output
    assert earlier.read_text() == '{"from": "an earlier run"}\n'
    assert not list(tmp_path.glob('.results*')) and not (tmp_path / 'mosaic_000.png').exists()
    node_log = (tmp_path / 'perception_node.log').read_text()
    assert 'stopped by SIGTERM while serving' in node_log, node_log
