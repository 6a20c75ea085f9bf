# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Measure INT8 choices for the default weights' exported graph (issue #22, item 1).

Every setting quantises the same FP32 graph (``mtl_export_onnx`` at the trained 640x192) with
ONNX Runtime's static quantisation, calibrated on rendered frames of the weights' own training
seeds, and is measured side by side in one run: the forward time on ``--threads`` threads
(median), the labels' agreement with FP32 and delta1 against the renderer's ground truth on
held-out frames that calibration never saw. Run it on a quiet machine.

Usage: python bench/int8_choices.py [--threads 2] [--runs 30] [--calibration 16]
           [--held-out 16] [--only NAME ...] [--json FILE]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
import json
from pathlib import Path
import statistics
import sys
import tempfile
import time

from mtl_perception.default_model import default_model_path
from mtl_perception.engines.onnx_export import export_onnx
from mtl_perception.synthetic import render_frame
import numpy as np
import onnx
import onnxruntime
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                      quantize_static, QuantType)

HELD_OUT_SEED = 1_000_000  # the default weights trained on seeds below 1000


@dataclass(frozen=True)
class Setting:
    """One way to quantise: format, granularity, types, calibration, what stays float."""

    name: str
    quant_format: QuantFormat = QuantFormat.QOperator
    per_channel: bool = True
    activation_type: QuantType = QuantType.QUInt8
    weight_type: QuantType = QuantType.QInt8
    calibrate_method: CalibrationMethod = CalibrationMethod.MinMax
    op_types: tuple[str, ...] = ('Conv',)
    keep_float: tuple[str, ...] = ()  # 'first': the first convolution, 'heads': the last four
    extra: dict = field(default_factory=dict)


SETTINGS = [
    Setting('qoperator u8/s8 per-channel minmax'),
    Setting('qoperator u8/s8 per-tensor minmax', per_channel=False),
    Setting('qoperator u8/s8 per-channel percentile',
            calibrate_method=CalibrationMethod.Percentile),
    Setting('qoperator u8/s8 per-channel entropy', calibrate_method=CalibrationMethod.Entropy),
    Setting('qoperator u8/s8 per-channel, first conv float', keep_float=('first',)),
    Setting('qoperator u8/s8 per-channel, heads float', keep_float=('heads',)),
    Setting('qoperator u8/s8 per-channel, first conv + heads float',
            keep_float=('first', 'heads')),
    Setting('qoperator u8/s8 per-channel, Conv+Add+Mul', op_types=('Conv', 'Add', 'Mul')),
    Setting('qoperator s8/s8 per-channel minmax', activation_type=QuantType.QInt8),
    Setting('qdq u8/s8 per-channel minmax (TensorRT form)', quant_format=QuantFormat.QDQ),
]


class Frames(CalibrationDataReader):
    """Feed rendered frames to the calibrator, one at a time."""

    def __init__(self, frames: list[np.ndarray]) -> None:
        self._frames = iter(frames)

    def get_next(self) -> dict[str, np.ndarray] | None:
        """Return the next input, or None when done."""
        frame = next(self._frames, None)
        return None if frame is None else {'image': frame[None]}


def session(path: Path, threads: int) -> onnxruntime.InferenceSession:
    """Open a CPU session with ``threads`` intra-op threads."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), options, providers=['CPUExecutionProvider'])


def conv_names(path: Path) -> list[str]:
    """Names of the graph's Conv nodes in execution order."""
    return [node.name for node in onnx.load(str(path)).graph.node if node.op_type == 'Conv']


def delta1(depth: np.ndarray, truth: np.ndarray) -> float:
    """Share of pixels with max(d/g, g/d) < 1.25 where both are finite and g is 0.5-80 m."""
    valid = np.isfinite(depth) & np.isfinite(truth) & (truth > 0.5) & (truth < 80) & (depth > 0)
    ratio = np.maximum(depth[valid] / truth[valid], truth[valid] / depth[valid])
    return float((ratio < 1.25).mean())


def score(run: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], held_out: list,
          runs: int, reference: list[tuple[np.ndarray, np.ndarray]] | None) -> dict:
    """Time ``run`` (frame -> labels, depth) and score it on the held-out frames.

    Labels are compared with ``reference`` (the FP32 outputs) when it is given; the outputs
    are returned for use as such a reference.
    """
    frame = held_out[0].rgb
    for _ in range(3):
        run(frame)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run(frame)
        times.append((time.perf_counter() - started) * 1000.0)
    outputs = [run(f.rgb) for f in held_out]
    result = {'median_ms': statistics.median(times),
              'delta1': float(np.mean([delta1(d, f.depth) for (_, d), f in
                                       zip(outputs, held_out)])),
              'outputs': outputs}
    if reference is not None:
        result['labels_agree'] = float(np.mean([(labels == ref[0]).mean() for (labels, _), ref
                                                in zip(outputs, reference)]))
    return result


def measure(path: Path, held_out: list, threads: int, runs: int,
            reference: list[tuple[np.ndarray, np.ndarray]] | None) -> dict:
    """Time the graph on ONNX Runtime and score it (against FP32 when given)."""
    runner = session(path, threads)

    def run(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        labels, depth = runner.run(None, {'image': frame[None]})[:2]  # a batch of one
        return labels[0], depth[0]

    return score(run, held_out, runs, reference)


def report(rows: list[dict], threads: int, json_path: Path | None) -> None:
    """Print the rows as a Markdown table against the first (FP32); write them as JSON."""
    fp32_ms = rows[0]['median_ms']
    print(f'| setting | forward ms ({threads} threads) | speed-up | labels = FP32 | '
          f'delta1 (FP32 {rows[0]["delta1"]:.4f}) |')
    print('| --- | --- | --- | --- | --- |')
    for row in rows:
        print(f'| {row["setting"]} | {row["median_ms"]:.1f} | {fp32_ms / row["median_ms"]:.2f}x'
              f' | {row["labels_agree"]:.2%} | {row["delta1"]:.4f} |')
    if json_path:
        json_path.write_text(json.dumps(rows, indent=1) + '\n')


def main() -> None:
    """Quantise with every setting and print one table (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--runs', type=int, default=30)
    parser.add_argument('--calibration', type=int, default=16,
                        help='rendered frames of training seeds to calibrate on')
    parser.add_argument('--held-out', type=int, default=16,
                        help='rendered frames of held-out seeds to score on')
    parser.add_argument('--only', nargs='+', help='names (substrings) of settings to run')
    parser.add_argument('--json', type=Path, help='also write the figures here')
    args = parser.parse_args()
    calibration = [render_frame(seed).rgb for seed in range(args.calibration)]
    held_out = [render_frame(HELD_OUT_SEED + index) for index in range(args.held_out)]
    rows = []
    with tempfile.TemporaryDirectory() as work:
        fp32 = Path(work) / 'fp32.onnx'
        export_onnx(default_model_path(), fp32)
        baseline = measure(fp32, held_out, args.threads, args.runs, None)
        reference = baseline.pop('outputs')
        rows.append({'setting': 'fp32', **baseline, 'labels_agree': 1.0})
        convs = conv_names(fp32)
        chosen = [s for s in SETTINGS if not args.only or any(o in s.name for o in args.only)]
        for setting in chosen:
            excluded = ([convs[0]] if 'first' in setting.keep_float else []) + (
                convs[-4:] if 'heads' in setting.keep_float else [])
            int8 = Path(work) / 'int8.onnx'
            quantize_static(fp32, int8, Frames(calibration),
                            quant_format=setting.quant_format, per_channel=setting.per_channel,
                            activation_type=setting.activation_type,
                            weight_type=setting.weight_type,
                            calibrate_method=setting.calibrate_method,
                            op_types_to_quantize=list(setting.op_types),
                            nodes_to_exclude=excluded, extra_options=setting.extra)
            figures = measure(int8, held_out, args.threads, args.runs, reference)
            figures.pop('outputs')
            rows.append({'setting': setting.name, **figures})
            print(f'{setting.name}: {figures["median_ms"]:.1f} ms', file=sys.stderr)
    report(rows, args.threads, args.json)


if __name__ == '__main__':
    main()
