# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Three cameras: one perception_node serving all three against one node per camera.

Each configuration runs as separate node processes driven over DDS from this one: three
camera streams of 640x192 frames (the default weights' input size) at the same rate, every
frame stamped with its send time; a consumer subscribes to each camera's ``~/points`` and
``~/segmentation`` (received serialised, only the stamp is read). Reported per camera: frames
sent and out, latency (send to ``~/points``), and per configuration the nodes' resident memory
(RSS, summed over the node processes) and CPU. Usage::

    python bench/cameras_benchmark.py --seconds 20 --rates 30 10 --json cameras.json

``python bench/run_benchmarks.py`` runs it as its ``cameras`` section.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import time

from cameras_report import cameras_tables
from diagnostic_msgs.msg import DiagnosticArray
from mtl_perception.ros.conversions import array_to_image
from mtl_perception.synthetic import kitti_like_intrinsics, render_frame
from node_benchmark import process_usage, serialised_stamp
import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image, PointCloud2
from std_msgs.msg import Header

CAMERAS = ('front', 'left', 'right')
RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


def _node_command(namespace: str, cameras: tuple[str, ...], backend: str) -> list[str]:
    """One node in ``namespace`` serving ``cameras`` (named, under ``~/<camera>/``)."""
    return [sys.executable, '-m', 'mtl_perception', 'perception_node', '--ros-args',
            '-r', f'__ns:=/{namespace}', '-p', 'input_reliability:=reliable',
            '-p', 'device:=auto', '-p', f'backend:={backend}',
            '-p', f'cameras:=[{", ".join(cameras)}]']


class _Streams:
    """Publishes the three cameras' frames and records when each one's cloud comes back."""

    def __init__(self, topics: dict[str, tuple[str, str]], image: np.ndarray) -> None:
        """``topics``: camera -> (input namespace prefix, output prefix)."""
        self.node = Node('cameras_bench_client')
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)
        self.images, self.infos = {}, {}
        self.sent = {camera: {} for camera in topics}
        self.diagnostics: dict[str, dict[str, str]] = {}
        self.node.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 10)
        self.arrivals = {camera: {} for camera in topics}
        intrinsics = kitti_like_intrinsics(image.shape[1], image.shape[0])
        self.info = CameraInfo(width=image.shape[1], height=image.shape[0],
                               k=[float(v) for v in intrinsics.matrix.ravel()])
        self.message = array_to_image(image, 'rgb8', Header())
        for camera, (inputs, outputs) in topics.items():
            self.images[camera] = self.node.create_publisher(Image, f'{inputs}/image', RELIABLE)
            self.infos[camera] = self.node.create_publisher(CameraInfo, f'{inputs}/camera_info',
                                                            RELIABLE)
            self.node.create_subscription(
                PointCloud2, f'{outputs}/points',
                lambda data, arrivals=self.arrivals[camera]: arrivals.setdefault(
                    serialised_stamp(data), time.time()), RELIABLE, raw=True)
            self.node.create_subscription(Image, f'{outputs}/segmentation', lambda data: None,
                                          RELIABLE, raw=True)

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            values = {kv.key: kv.value for kv in status.values}
            if values.get('camera') in self.sent:
                self.diagnostics[values['camera']] = values

    def wait_for_nodes(self, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while any(publisher.get_subscription_count() == 0 for publisher in self.images.values()):
            if time.monotonic() > deadline:
                raise RuntimeError('the nodes did not come up over DDS')
            self.executor.spin_once(timeout_sec=0.1)

    def send(self, camera: str) -> None:
        stamp = time.time_ns()
        header = Header(frame_id=f'{camera}_optical_frame')
        header.stamp.sec, header.stamp.nanosec = divmod(stamp, 10**9)
        self.message.header = self.info.header = header
        self.infos[camera].publish(self.info)
        self.images[camera].publish(self.message)
        self.sent[camera][stamp] = stamp / 1e9

    def run(self, rate: float, seconds: float) -> float:
        """Send every camera's frames at ``rate`` for ``seconds`` (the cameras in turn)."""
        for record in (*self.sent.values(), *self.arrivals.values()):
            record.clear()
        started = time.monotonic()
        next_send = started
        while time.monotonic() - started < seconds:
            if time.monotonic() >= next_send:
                for camera in self.sent:
                    self.send(camera)
                next_send += 1.0 / rate
            self.executor.spin_once(timeout_sec=0.002)
        sending = time.monotonic() - started
        settle = time.monotonic() + 2.0
        while time.monotonic() < settle:
            self.executor.spin_once(timeout_sec=0.01)
        return sending


def run_configuration(label: str, nodes: dict[str, tuple[str, ...]],
                      topics: dict[str, tuple[str, str]], image: np.ndarray, rate: float,
                      seconds: float, backend: str) -> dict[str, object]:
    """Start ``nodes`` (namespace -> cameras), drive them, return the figures."""
    processes = [subprocess.Popen(_node_command(namespace, cameras, backend),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for namespace, cameras in nodes.items()]
    streams = _Streams(topics, image)
    try:
        streams.wait_for_nodes()
        streams.run(rate, 3.0)  # warm-up: kernels, DDS discovery of every output
        cpu_before = sum(process_usage(p.pid)[0] for p in processes)
        sending = streams.run(rate, seconds)
        usage = [process_usage(p.pid) for p in processes]
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        streams.node.destroy_node()
    cameras = {}
    for camera, sent in streams.sent.items():
        latencies = [(arrival - sent[stamp]) * 1000.0
                     for stamp, arrival in streams.arrivals[camera].items() if stamp in sent]
        cameras[camera] = {
            'sent': len(sent), 'out': len(latencies), 'out_share': len(latencies) / len(sent),
            'out_hz': len(latencies) / sending,
            'latency_p50_ms': float(np.median(latencies)) if latencies else None,
            'latency_p95_ms': float(np.percentile(latencies, 95)) if latencies else None,
            **{key: float(streams.diagnostics.get(camera, {}).get(key, 'nan'))
               for key in ('inference_ms_p50', 'outputs_ms_p50', 'frames_per_pass_mean')}}
    return {'configuration': label, 'nodes': len(processes), 'cameras': cameras,
            'total_out_hz': sum(entry['out_hz'] for entry in cameras.values()),
            'rss_mib': sum(rss for _, rss in usage),
            'cpu_percent': 100.0 * (sum(cpu for cpu, _ in usage) - cpu_before) / (sending + 2.0)}


def bench_cameras(rates: tuple[float, ...], seconds: float,
                  backend: str = 'auto') -> dict[str, object]:
    """Run the three configurations at each rate (per camera); rows by rate."""
    image = render_frame(1_000_000).rgb
    one = {'front': ('one/front', '/one/mtl_perception/front')}
    separate = {camera: (f'{camera}_node/{camera}', f'/{camera}_node/mtl_perception/{camera}')
                for camera in CAMERAS}
    shared = {camera: (f'shared/{camera}', f'/shared/mtl_perception/{camera}')
              for camera in CAMERAS}
    results: dict[str, object] = {'seconds': seconds, 'backend': backend, 'rates': {},
                                  'date': datetime.date.today().isoformat()}
    os.environ['ROS_DOMAIN_ID'] = str(1 + os.getpid() % 100)
    rclpy.init()
    try:
        _run_rates(results, rates, image, (one, separate, shared))
    finally:
        rclpy.shutdown()
    return results


def _run_rates(results: dict, rates: tuple[float, ...], image: np.ndarray,
               topics: tuple[dict, dict, dict]) -> None:
    """Fill ``results['rates']``: the three configurations at each rate."""
    one, separate, shared = topics
    seconds, backend = results['seconds'], results['backend']
    for rate in rates:
        results['rates'][str(rate)] = [
            run_configuration('one node, one camera', {'one': ('front',)}, one, image, rate,
                              seconds, backend),
            run_configuration('three nodes, one camera each',
                              {f'{camera}_node': (camera,) for camera in CAMERAS}, separate,
                              image, rate, seconds, backend),
            run_configuration('one node, three cameras', {'shared': CAMERAS}, shared, image,
                              rate, seconds, backend)]


def main() -> None:
    """Run the configurations side by side; print the tables (and write the JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seconds', type=float, default=20.0)
    parser.add_argument('--rates', type=float, nargs='+', default=[30.0, 10.0],
                        help='frames per second per camera (default 30 and 10)')
    parser.add_argument('--backend', default='auto')
    parser.add_argument('--json', type=Path)
    args = parser.parse_args()
    results = bench_cameras(tuple(args.rates), args.seconds, args.backend)
    print(cameras_tables(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + '\n')


if __name__ == '__main__':
    main()
