# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The INT8 engine against FP32 ONNX Runtime on the default weights, side by side (issue #22).

One run: the INT8 export as the node makes it (export cache: calibrated on rendered frames of
the training seeds, frames of any size), then, interleaved on ``--threads`` threads, the
forward of both engines on a 640x192 frame; labels agreement with FP32 and delta1 against
the renderer's ground truth on held-out frames (never trained or calibrated on) at 640x192
and at 960x288; and the node itself with each engine over DDS (closed loop, 10 Hz, 30 Hz,
flat out). Run it on a quiet machine.

Usage: python bench/int8_engine_benchmark.py [--threads 2] [--runs 40] [--frames 16]
           [--node-seconds 10] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(Path(__file__).resolve().parent))
from int8_choices import delta1  # noqa: E402
from mtl_perception.default_model import default_model_path  # noqa: E402
from mtl_perception.engines.loading import load_engine  # noqa: E402
from mtl_perception.synthetic import render_frame  # noqa: E402
from node_benchmark import bench_node  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

FRESH_SEED = 1_000_500


def forward_times(engines: dict, frame: np.ndarray, runs: int) -> dict[str, float]:
    """Median ms of ``infer`` per engine, the engines taking turns run by run."""
    times: dict[str, list[float]] = {name: [] for name in engines}
    for index in range(runs + 3):
        for name, engine in engines.items():
            started = time.perf_counter()
            engine.infer(frame)
            if index >= 3:
                times[name].append((time.perf_counter() - started) * 1000.0)
    return {name: statistics.median(values) for name, values in times.items()}


def accuracy(fp32, int8, size: tuple[int, int], count: int) -> dict[str, float]:
    """Labels agreement with FP32 and delta1 of both against the ground truth."""
    agree, delta_fp32, delta_int8 = [], [], []
    for index in range(count):
        frame = render_frame(FRESH_SEED + index, height=size[0], width=size[1])
        reference, quantized = fp32.predict(frame.rgb), int8.predict(frame.rgb)
        agree.append(float((reference.labels == quantized.labels).mean()))
        delta_fp32.append(delta1(reference.depth, frame.depth))
        delta_int8.append(delta1(quantized.depth, frame.depth))
    return {'labels_agree': float(np.mean(agree)), 'labels_agree_min': float(np.min(agree)),
            'delta1_fp32': float(np.mean(delta_fp32)),
            'delta1_int8': float(np.mean(delta_int8))}


def node_rows(results: dict) -> dict[str, dict[str, float]]:
    """Pick the figures of each node mode that the tables show."""
    return {mode: {key: results[mode].get(key) for key in
                   ('throughput_hz', 'frames_sent', 'dropped', 'latency_p50_ms',
                    'latency_p95_ms', 'cpu_percent', 'rss_mib')}
            for mode in ('closed loop', '10 Hz', '30 Hz', 'flat out')}


def bench_int8(threads: int = 2, runs: int = 40, frames: int = 16,
               node_seconds: float = 10.0) -> dict[str, object]:
    """Measure everything of the module docstring in one run; return the figures."""
    torch.set_num_threads(threads)
    previous = os.environ.get('MTL_PERCEPTION_CACHE')
    with tempfile.TemporaryDirectory() as cache:
        os.environ['MTL_PERCEPTION_CACHE'] = cache
        try:
            started = time.perf_counter()
            int8 = load_engine(default_model_path(), precision='int8')
            export_s = time.perf_counter() - started
            fp32 = load_engine(default_model_path(), backend='onnxruntime', device='cpu')
            frame = render_frame(1_000_000).rgb
            forward = forward_times({'onnxruntime fp32': fp32, 'openvino int8': int8}, frame,
                                    runs)
            return {
                'machine': f'{os.cpu_count()} CPUs, {threads} threads',
                'date': time.strftime('%Y-%m-%d'), 'int8_export_s': export_s,
                'quantization': int8.record['quantization'], 'forward_ms': forward,
                'speed_up': forward['onnxruntime fp32'] / forward['openvino int8'],
                'accuracy': {f'{w}x{h}': accuracy(fp32, int8, (h, w), frames)
                             for h, w in ((192, 640), (288, 960))},
                'node': {'onnxruntime fp32': node_rows(bench_node(
                             default_model_path(), frame, node_seconds, 'onnxruntime')),
                         'openvino int8': node_rows(bench_node(
                             int8.path, frame, node_seconds, 'openvino'))}}
        finally:
            if previous is None:
                os.environ.pop('MTL_PERCEPTION_CACHE', None)
            else:
                os.environ['MTL_PERCEPTION_CACHE'] = previous


def main() -> None:
    """Measure and print one JSON document (also written with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--runs', type=int, default=40)
    parser.add_argument('--frames', type=int, default=16, help='held-out frames per size')
    parser.add_argument('--node-seconds', type=float, default=10.0)
    parser.add_argument('--json', type=Path)
    args = parser.parse_args()
    results = bench_int8(args.threads, args.runs, args.frames, args.node_seconds)
    text = json.dumps(results, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + '\n')


if __name__ == '__main__':
    main()
