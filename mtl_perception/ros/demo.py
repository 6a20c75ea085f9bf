# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``mtl_demo``: the whole system on the embedded default, as separate processes over DDS.

Renders a held-out synthetic drive in KITTI's raw layout, converts it with
``mtl_kitti_to_bag``, starts ``perception_node`` (default weights, simulated time), replays the
bag into it with ``mtl_bag_play --clock``, records the four outputs, and writes mosaics, a GIF,
a semantic PLY, a picture of that cloud and ``summary.json`` to the output folder.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import cv2
import imageio.v2 as imageio
from mtl_perception.checkpoint import load_checkpoint
from mtl_perception.default_model import default_model_path
from mtl_perception.engines import backend_choices, backend_help
from mtl_perception.formats.ros_clouds import pointcloud2_to_array
from mtl_perception.formats.ros_images import image_to_array, image_to_rgb
from mtl_perception.holds import hold_if_asked
from mtl_perception.process_signals import signals_deferred, stop_flag
from mtl_perception.ros.entry import spin_until
from mtl_perception.ros.errors import DemoError, RosArgumentsError
from mtl_perception.ros.rcl_init import init_rclpy
from mtl_perception.ros.recorder import OutputRecorder, Recording
from mtl_perception.safe_output import remove_stale_stagings
from mtl_perception.synthetic.kitti_layout import write_kitti_drive
from mtl_perception.tools.kitti_to_bag import camera_topics, convert
from mtl_perception.tools.ply import write_semantic_ply
from mtl_perception.visualize import colourise_depth, mosaic, render_cloud
import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor

DEMO_SEED = 2_000_000
LOGGER = logging.getLogger('demo')
TOPICS = camera_topics(2)


def _start_node(model: Path, backend: str, log_path: Path) -> subprocess.Popen:
    command = [sys.executable, '-m', 'mtl_perception', 'perception_node', '--ros-args',
               '-r', f'image:={TOPICS["image"]}', '-r', f'camera_info:={TOPICS["camera_info"]}',
               '-p', f'model:={model}', '-p', f'backend:={backend}',
               '-p', 'use_sim_time:=true', '-p', 'point_stride:=2',
               '-p', 'input_reliability:=reliable', '-p', 'input_queue_depth:=2',
               '-p', 'log_period:=5.0']
    with log_path.open('w') as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


def _play(bag: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, '-m', 'mtl_perception', 'mtl_bag_play', str(bag),
                             '--clock', '--delay', '0', '--wait-for-subscribers', '60',
                             '--expect', f'{TOPICS["image"]}:2',  # the node and the recorder
                             '--topics', TOPICS['image'], TOPICS['camera_info']])


def _stop(process: subprocess.Popen | None, timeout: float = 60.0) -> None:
    """End a child process with SIGTERM (SIGKILL if it does not end in ``timeout``)."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_for_node(recorder: OutputRecorder, node: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 180
    while recorder.count_publishers(recorder.output_topic) == 0:
        if node.poll() is not None:
            raise DemoError(f'perception_node exited with {node.returncode}; see {log_path}')
        if time.monotonic() > deadline:
            raise DemoError(f'perception_node did not come up in 180 s; see {log_path}')
        time.sleep(0.2)


def _latencies_ms(recording: Recording) -> list[float]:
    latencies = []
    for stamp, (received, _) in recording.outputs['points'].items():
        if stamp in recording.inputs:
            latencies.append((received - recording.inputs[stamp][0]) * 1000.0)
    return latencies


def _summary(recording: Recording, published: int, device: str) -> dict[str, object]:
    latencies = _latencies_ms(recording)
    arrivals = sorted(t for t, _ in recording.outputs['points'].values())
    processed = len(recording.outputs['points'])
    rate = (processed - 1) / (arrivals[-1] - arrivals[0]) if processed > 1 else 0.0
    diagnostics = recording.diagnostics
    return {
        'frames_published': published, 'frames_received_by_node':
        int(diagnostics.get('frames_received', 0)), 'frames_processed': processed,
        'frames_dropped': int(diagnostics.get('frames_dropped', 0)),
        'frames_bad': int(diagnostics.get('frames_bad', 0)),
        'latency_ms_p50': float(np.percentile(latencies, 50)) if latencies else None,
        'latency_ms_p95': float(np.percentile(latencies, 95)) if latencies else None,
        'latency_measured_as': 'camera image arrival -> ~/points arrival, in one recorder '
                               'process over DDS (wall clock)',
        'output_rate_hz': rate, 'device': diagnostics.get('device', device),
    }


def _frame_mosaic(recording: Recording, stamp: int, depth_range: tuple[float, float]
                  ) -> np.ndarray:
    image = image_to_rgb(recording.inputs[stamp][1])
    colour = image_to_array(recording.outputs['segmentation/color'][stamp][1])
    depth = image_to_array(recording.outputs['depth/image'][stamp][1])
    return mosaic(image, colour, colourise_depth(depth, depth_range))


def _write_pictures(recording: Recording, output: Path, depth_range: tuple[float, float]
                    ) -> list[Path]:
    stamps = sorted(s for s in recording.outputs['depth/image']
                    if s in recording.inputs and s in recording.outputs['segmentation/color'])
    if not stamps:
        raise DemoError(
            f'no frame to show: recorded {len(recording.inputs)} camera image(s) and '
            f'{len(recording.outputs["depth/image"])} depth image(s) from perception_node')
    written = []
    for index in sorted({0, len(stamps) // 2, len(stamps) - 1}):
        path = output / f'mosaic_{index:03d}.png'
        cv2.imwrite(str(path), _frame_mosaic(recording, stamps[index], depth_range)[:, :, ::-1])
        written.append(path)
    frames = [cv2.resize(_frame_mosaic(recording, s, depth_range), None, fx=0.5, fy=0.5,
                         interpolation=cv2.INTER_AREA) for s in stamps]
    imageio.mimsave(output / 'drive.gif', frames, duration=100, loop=0)
    written.append(output / 'drive.gif')
    cloud_stamp = stamps[len(stamps) // 2]
    cloud = pointcloud2_to_array(recording.outputs['points'][cloud_stamp][1]).reshape(-1)
    valid = np.isfinite(cloud['z'])
    points = np.stack([cloud['x'], cloud['y'], cloud['z']], axis=1)[valid]
    packed = cloud['rgb'][valid].view(np.uint32)
    colours = np.stack([(packed >> 16) & 255, (packed >> 8) & 255, packed & 255],
                       axis=1).astype(np.uint8)
    write_semantic_ply(output / 'cloud.ply', points, colours, cloud['label'][valid])
    cv2.imwrite(str(output / 'cloud.png'), render_cloud(points, colours)[:, :, ::-1])
    written += [output / 'cloud.ply', output / 'cloud.png']
    return written


def run_demo(output: Path, *, frames: int, model: Path,
             backend: str = 'auto') -> dict[str, object]:
    """Run the whole chain and write the results to ``output``; returns the summary.

    The results are written into a hidden staging folder and moved into ``output`` at the
    end, with signals held back while they move: a demo stopped part-way leaves the previous
    results as they were, never some old and some new. ``output/work`` keeps the rendered
    drive and its bag.
    """
    work = output / 'work'
    shutil.rmtree(work, ignore_errors=True)
    output.mkdir(parents=True, exist_ok=True)
    LOGGER.info('rendering a %d-frame synthetic drive (seed %d) in KITTI raw layout', frames,
                DEMO_SEED)
    drive = write_kitti_drive(work / 'kitti_raw', seed=DEMO_SEED, frames=frames, cameras=(2,))
    LOGGER.info('converting it to a rosbag2 with mtl_kitti_to_bag')
    bag = work / 'kitti_bag'
    convert(drive, bag, depth_root=work / 'kitti_raw' / 'depth')
    metadata = load_checkpoint(model).metadata
    remove_stale_stagings(output / 'results')
    with tempfile.TemporaryDirectory(prefix='.results.partial-', dir=output) as staging:
        results = Path(staging)
        recording = _record_drive(bag, model, backend, output / 'perception_node.log',
                                  results / 'outputs_bag')
        summary = _summary(recording, frames, 'unknown')
        pictures = _write_pictures(recording, results, metadata.depth_range)
        (results / 'summary.json').write_text(json.dumps(summary, indent=2) + '\n')
        hold_if_asked('results')
        with signals_deferred():
            for item in sorted(results.iterdir()):
                target = output / item.name
                if target.is_dir():
                    shutil.rmtree(target)  # outputs_bag of an earlier run
                os.replace(item, target)
    names = [p.name for p in [*pictures, output / 'summary.json', output / 'outputs_bag',
                              output / 'perception_node.log']]
    LOGGER.info('results in %s:\n  %s', output, '\n  '.join(names))
    LOGGER.info('%s', json.dumps(summary))
    return summary


def _record_drive(bag: Path, model: Path, backend: str, log_path: Path,
                  outputs_bag: Path) -> Recording:
    """Start the node, replay ``bag`` into it, record its outputs; stop everything in order."""
    init_rclpy(['mtl_demo'])
    recorder = OutputRecorder(TOPICS['image'], outputs_bag)
    executor = SingleThreadedExecutor()
    executor.add_node(recorder)
    spinning_done = threading.Event()
    spinner = threading.Thread(target=spin_until, args=(executor, spinning_done, []),
                               name='executor')
    spinner.start()
    node = player = None
    try:
        node = _start_node(model, backend, log_path)
        LOGGER.info('starting perception_node with %s (backend %s)', model, backend)
        _wait_for_node(recorder, node, log_path)
        hold_if_asked('node started')
        LOGGER.info('replaying the bag into it with mtl_bag_play --clock')
        player = _play(bag)
        if player.wait() != 0:
            raise DemoError(f'mtl_bag_play exited with {player.returncode}')
        hold_if_asked('played')
        stop_flag().wait(3.0)  # the last frames' outputs are still on their way
    finally:
        with signals_deferred():
            _stop(player)
            _stop(node)
            spinning_done.set()
            spinner.join()
            executor.shutdown()
            recorder.close()
            recorder.destroy_node()
            rclpy.try_shutdown()
    return recorder.recording


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``mtl_demo``."""
    parser = argparse.ArgumentParser(prog='mtl_demo', description=__doc__.splitlines()[0])
    parser.add_argument('--output', type=Path, default=Path('demo_output'))
    parser.add_argument('--frames', type=int, default=40, help='frames of the drive')
    parser.add_argument('--model', type=Path, default=None,
                        help='checkpoint (default: the shipped default weights)')
    parser.add_argument('--backend', choices=backend_choices(), default='auto',
                        help=backend_help())
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format='%(name)s: %(message)s')
    os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
    try:
        run_demo(args.output, frames=args.frames, model=args.model or default_model_path(),
                 backend=args.backend)
    except (DemoError, RosArgumentsError) as error:
        sys.stderr.write(f'mtl_demo: error: {error}\n')
        return 1
    return 0
