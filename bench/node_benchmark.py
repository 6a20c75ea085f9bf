# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""perception_node end to end: a separate process driven over DDS from this one.

Frames are stamped with their send time; latency is send to receipt of ``~/points``, the last
output the node publishes for a frame. Modes: fixed rates (the node drops what it cannot
take), flat out (the publisher never waits; on a small machine it competes with the node for
the CPU) and closed loop (the next frame is sent when the previous frame's cloud arrived: the
node's own time per frame, which the overhead ratio uses). Outputs are received serialised
(``raw=True``), so the client spends no CPU on deserialising what it does not look at.
The null relay (bench/null_relay.py) is the same node with the network replaced by a constant
prediction: its closed-loop frame time is the cost of DDS and the node's plumbing.
"""

from __future__ import annotations

import os
from pathlib import Path
import signal
import struct
import subprocess
import sys
import time

from diagnostic_msgs.msg import DiagnosticArray
from mtl_perception.engines.loading import load_engine
from mtl_perception.formats.ros_images import image_to_rgb
from mtl_perception.ros.conversions import array_to_image
from mtl_perception.ros.outputs import OutputBuilder
from mtl_perception.synthetic import kitti_like_intrinsics
import numpy as np
import rclpy
from rclpy._rclpy_pybind11 import RCLError
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.serialization import serialize_message
from sensor_msgs.msg import CameraInfo, Image, PointCloud2
from std_msgs.msg import Header

MODES = (('closed loop', 'closed'), ('10 Hz', 10.0), ('30 Hz', 30.0), ('flat out', None))
NULL_RELAY = Path(__file__).resolve().parent / 'null_relay.py'
OUTPUTS = (('segmentation', Image), ('segmentation/color', Image), ('depth/image', Image),
           ('points', PointCloud2))
_WARMUP_FRAMES = 5
_ARRIVAL_TIMEOUT_S = 5.0


def process_usage(pid: int) -> tuple[float, float]:
    """CPU seconds and resident MiB of a process, from /proc."""
    fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
    rss_pages = int(Path(f'/proc/{pid}/statm').read_text().split()[1])
    return cpu, rss_pages * os.sysconf('SC_PAGE_SIZE') / 2**20


def serialised_stamp(data: bytes) -> int:
    """Read only the header stamp (ns) of a serialised message, after the CDR encapsulation."""
    sec, nanosec = struct.unpack_from('<iI', data, 4)
    return sec * 10**9 + nanosec


class _Driver:
    """Publishes stamped frames to the node and records when each output comes back."""

    def __init__(self, image: np.ndarray) -> None:
        self.client = Node('bench_client')
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.client)
        reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        self.image_pub = self.client.create_publisher(Image, 'image', reliable)
        self.info_pub = self.client.create_publisher(CameraInfo, 'camera_info', reliable)
        self.received: dict[str, dict[int, float]] = {name: {} for name, _ in OUTPUTS}
        self.arrivals = self.received['points']
        self.sent: dict[int, float] = {}
        self.refused = 0
        self.diagnostics: dict[str, str] = {}
        self.client.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics,
                                        10)
        for name, kind in OUTPUTS:
            self.client.create_subscription(
                kind, f'mtl_perception/{name}',
                lambda data, arrivals=self.received[name]: self._on_output(arrivals, data),
                reliable, raw=True)
        intrinsics = kitti_like_intrinsics(image.shape[1], image.shape[0])
        self.info = CameraInfo(width=image.shape[1], height=image.shape[0],
                               k=[float(v) for v in intrinsics.matrix.ravel()])
        self.message = array_to_image(image, 'rgb8', Header(frame_id='camera_optical_frame'))

    @staticmethod
    def _on_output(arrivals: dict[int, float], data: bytes) -> None:
        arrivals.setdefault(serialised_stamp(data), time.time())

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name.endswith(': perception'):
                self.diagnostics = {kv.key: kv.value for kv in status.values}

    def wait_for_node(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while (self.client.count_subscribers('image') == 0
               or self.client.count_publishers('mtl_perception/points') == 0):
            if time.monotonic() > deadline:
                raise RuntimeError('perception_node did not come up over DDS')
            self.executor.spin_once(timeout_sec=0.1)

    def send(self) -> int:
        """Publish one stamped frame; a publish the middleware refuses is counted, not sent.

        Flat out, a reliable writer whose history is full of unacknowledged frames blocks and
        then refuses (``RCLError``): that is the backpressure, not a failure of the node.
        """
        stamp = time.time_ns()
        header = Header(frame_id='camera_optical_frame')
        header.stamp.sec, header.stamp.nanosec = divmod(stamp, 10**9)
        self.message.header = self.info.header = header
        try:
            self.info_pub.publish(self.info)
            self.image_pub.publish(self.message)
        except RCLError:
            self.refused += 1
            return stamp
        self.sent[stamp] = stamp / 1e9
        return stamp

    def round_trip(self) -> bool:
        stamp = self.send()
        deadline = time.monotonic() + _ARRIVAL_TIMEOUT_S
        while stamp not in self.arrivals and time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.5)
        return stamp in self.arrivals

    def run(self, mode: object, seconds: float) -> float:
        """Drive one mode for ``seconds``; return the elapsed time including the settling."""
        self.sent.clear()
        self.refused = 0
        for arrivals in self.received.values():
            arrivals.clear()
        started = time.monotonic()
        next_send = started
        while time.monotonic() - started < seconds:
            if mode == 'closed':
                self.round_trip()
                continue
            now = time.monotonic()
            if mode is None or now >= next_send:
                self.send()
                next_send += 1.0 / mode if mode else 0.0
            self.executor.spin_once(timeout_sec=0.001 if mode is None else 0.002)
        sending = time.monotonic() - started
        settle = time.monotonic() + 2.0
        while time.monotonic() < settle:
            self.executor.spin_once(timeout_sec=0.01)
        return sending


def bench_node_work_in_process(model: Path, image: np.ndarray, repeats: int, backend: str,
                               point_stride: int = 2) -> dict[str, float]:
    """Time the node's per-frame work without DDS against a bare ``predict()``, interleaved.

    The work is what ``perception_node`` does between taking a frame and handing the
    serialised outputs to the middleware, with the same code (``image_to_rgb``, the engine's
    ``infer``, ``OutputBuilder``) and rclpy's serialisation standing in for ``publish``. Each
    repeat times one bare ``predict()`` and then one frame of that work, so both medians come
    from the same minutes of a machine whose speed drifts.
    """
    predictor = load_engine(model, backend=backend, device='auto')
    builder = OutputBuilder(predictor.palette, predictor.device)
    header = Header(frame_id='camera_optical_frame')
    message = array_to_image(image, 'rgb8', header)
    intrinsics = kitti_like_intrinsics(image.shape[1], image.shape[0])
    bare, inference, outputs = [], [], []
    for index in range(repeats + 3):
        started = time.perf_counter()
        predictor.predict(image)
        predicted = time.perf_counter()
        prediction = predictor.infer(image_to_rgb(message))
        inferred = time.perf_counter()
        for built in (builder.segmentation(prediction, header),
                      builder.colour(prediction, header), builder.depth(prediction, header),
                      builder.points(prediction, intrinsics, point_stride, header)):
            serialize_message(built)
        if index >= 3:
            bare.append(predicted - started)
            inference.append(inferred - predicted)
            outputs.append(time.perf_counter() - inferred)
    return {'bare_predict_ms': float(np.median(bare)) * 1000.0,
            'inference_ms': float(np.median(inference)) * 1000.0,
            'outputs_ms': float(np.median(outputs)) * 1000.0}


def _run_modes(command: list[str], image: np.ndarray, seconds: float,
               modes: tuple = MODES) -> dict[str, object]:
    """Start the node ``command``, drive it through ``modes``; stop it with SIGTERM."""
    domain = str(1 + os.getpid() % 100)
    os.environ['ROS_DOMAIN_ID'] = domain
    node_process = subprocess.Popen(command, env=dict(os.environ), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
    rclpy.init()
    driver = _Driver(image)
    results: dict[str, object] = {}
    try:
        driver.wait_for_node(180.0)
        for _ in range(_WARMUP_FRAMES):
            driver.round_trip()
        for label, mode in modes:
            cpu_before, _ = process_usage(node_process.pid)
            sending = driver.run(mode, seconds)
            cpu_after, rss = process_usage(node_process.pid)
            latencies = [(driver.arrivals[s] - driver.sent[s]) * 1000.0
                         for s in driver.arrivals if s in driver.sent]
            out = len(latencies)
            entry = {'frames_sent': len(driver.sent), 'publish_refused': driver.refused,
                     'frames_out': out,
                     'dropped': len(driver.sent) - out, 'throughput_hz': out / sending,
                     'cpu_percent': 100.0 * (cpu_after - cpu_before) / (sending + 2.0),
                     'rss_mib': rss}
            if latencies:
                entry.update({f'latency_p{q}_ms': float(np.percentile(latencies, q))
                              for q in (50, 95, 99)})
            entry['output_latency_p50_ms'] = {
                name: float(np.median([(t - driver.sent[s]) * 1000.0 for s, t in arrivals.items()
                                       if s in driver.sent])) if arrivals else None
                for name, arrivals in driver.received.items()}
            results[label] = entry
            if mode == 'closed':
                results['in_node_closed_loop'] = {
                    f'{stage}_ms': float(driver.diagnostics.get(f'{stage}_ms_p50', 'nan'))
                    for stage in ('inference', 'outputs')}
        closed = results['closed loop']
        results['node_frame_ms'] = (1000.0 / closed['throughput_hz'] if closed['throughput_hz']
                                    else float('inf'))
    finally:
        node_process.send_signal(signal.SIGTERM)
        node_process.wait(timeout=30)
        driver.client.destroy_node()
        rclpy.shutdown()
    return results


def _node_command(script: list[str], model: Path, backend: str) -> list[str]:
    return [sys.executable, *script, '--ros-args', '-p', f'model:={model}', '-p',
            'input_reliability:=reliable', '-p', 'device:=auto', '-p', f'backend:={backend}']


def bench_node(model: Path, image: np.ndarray, seconds: float,
               backend: str) -> dict[str, object]:
    """Run every mode against one node process with ``backend``; add the overhead ratios."""
    without_dds = bench_node_work_in_process(model, image, 60, backend)
    bare_ms = without_dds['bare_predict_ms']
    results = _run_modes(_node_command(['-m', 'mtl_perception', 'perception_node'], model,
                                       backend),
                         image, seconds)
    results.update(backend=backend, bare_predictor_ms=bare_ms,
                   overhead_ratio=results['node_frame_ms'] / bare_ms,
                   node_work_without_dds=without_dds,
                   overhead_ratio_without_dds=(without_dds['inference_ms']
                                               + without_dds['outputs_ms']) / bare_ms)
    return results


def bench_null_relay(model: Path, image: np.ndarray, seconds: float,
                     backend: str) -> dict[str, object]:
    """Run the same node and outputs with the network replaced by a constant prediction."""
    return _run_modes(_node_command([str(NULL_RELAY)], model, backend), image, seconds,
                      modes=MODES[:1] + MODES[2:3])
