# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The INT8 section of docs/benchmarks.md: the issue's targets and the node with each engine."""

from __future__ import annotations


def _node(results: dict, engine: str, mode: str) -> dict:
    return results['node'][engine][mode]


def int8_targets(results: dict) -> list[list[str]]:
    """Return the INT8 forward/accuracy row and the INT8 node at 30 Hz row."""
    trained = results['accuracy']['640x192']
    drift = trained['delta1_int8'] - trained['delta1_fp32']
    met = (results['speed_up'] >= 1.8 and trained['labels_agree'] >= 0.99
           and abs(drift) <= 0.01)
    rate = _node(results, 'openvino int8', '30 Hz')
    dropped = rate['dropped'] / max(rate['frames_sent'], 1)
    node_met = rate['throughput_hz'] >= 29 and dropped <= 0.03 and rate['latency_p50_ms'] <= 40
    return [
        ['INT8 forward 640x192 >= 1.8x FP32 ONNX Runtime (2 threads); labels >= 99 % of FP32, '
         f'delta1 within 0.01 (held-out frames; measured {results["date"]}, '
         '[benchmarks_int8.md](benchmarks_int8.md))',
         f'{results["speed_up"]:.2f}x; {trained["labels_agree"]:.2%}; {drift:+.4f}',
         'yes' if met else 'no'],
        [f'node with `precision: int8`, 640x192 at 30 Hz (same targets as above; measured '
         f'{results["date"]})', f'{rate["throughput_hz"]:.1f} Hz, {100 * dropped:.1f} % '
         f'dropped, p50 {rate["latency_p50_ms"]:.1f} ms', 'yes' if node_met else 'no']]


def int8_section(results: dict) -> str:
    """Return the section: the forward and the node over DDS with FP32 and INT8, one run."""
    rows = ['| mode | FP32: out Hz | FP32: dropped / sent | FP32: p50 ms | INT8: out Hz | '
            'INT8: dropped / sent | INT8: p50 ms |', '|' + ' --- |' * 7]
    for mode in ('closed loop', '10 Hz', '30 Hz', 'flat out'):
        cells = [mode]
        for engine in ('onnxruntime fp32', 'openvino int8'):
            entry = _node(results, engine, mode)
            cells += [f'{entry["throughput_hz"]:.1f}',
                      f'{entry["dropped"]} / {entry["frames_sent"]}',
                      f'{entry["latency_p50_ms"]:.0f}']
        rows.append('| ' + ' | '.join(cells) + ' |')
    forward = results['forward_ms']
    return f"""
## INT8 on the CPU (opt-in, `precision: int8`)

Measured on {results['date']} ({results['machine']}), not with the rest of this page:
`bench/int8_engine_benchmark.py` (section `int8` of `run_benchmarks.py`). Forward at 640x192,
the engines taking turns: ONNX Runtime FP32 {forward['onnxruntime fp32']:.1f} ms, OpenVINO
INT8 {forward['openvino int8']:.1f} ms ({results['speed_up']:.2f}x). The node over DDS with
each, side by side in one run:

{chr(10).join(rows)}

Choices, accuracy and the reading: [benchmarks_int8.md](benchmarks_int8.md).
"""
