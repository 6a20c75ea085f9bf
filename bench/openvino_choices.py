# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Measure OpenVINO beside ONNX Runtime on the default weights' graph (issue #22, item 2).

The same FP32 graph as ``bench/int8_choices.py`` (``mtl_export_onnx`` at the trained
640x192: resize, network, upsampling, argmax inside) runs on ONNX Runtime and on OpenVINO's
CPU plugin in FP32, then quantised to INT8 with NNCF's post-training quantisation
(calibrated on rendered frames of training seeds), whole, with the first convolution and
the heads kept float, or with NNCF's accuracy control choosing which operators go back to
float until the labels of validation frames (other training seeds) agree with FP32 within
0.5 %. Scored on held-out frames against FP32 as int8_choices does.
Needs ``pip install openvino nncf`` (not dependencies of the package).

The overflow fix (NNCF's 7-bit weights, so that the 8-bit multiply-adds cannot saturate)
is tried with every operator in 8 bits and with the first convolution and heads float, the
setting ``mtl_export_onnx --precision int8`` ships (``int8_export.float_operators``).

Usage: python bench/openvino_choices.py [--threads 2] [--runs 30] [--only NAME ...]
           [--held-out 16] [--held-out-seed 1000000] [--json FILE]
"""

from __future__ import annotations

import argparse
from pathlib import Path
import sys
import tempfile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from int8_choices import HELD_OUT_SEED, measure, report, score  # noqa: E402
from mtl_perception.default_model import default_model_path  # noqa: E402
from mtl_perception.engines.int8_export import float_operators  # noqa: E402
from mtl_perception.engines.onnx_export import export_onnx  # noqa: E402
from mtl_perception.synthetic import render_frame  # noqa: E402
import nncf  # noqa: E402
from nncf.quantization.advanced_parameters import (  # noqa: E402
    AdvancedQuantizationParameters, OverflowFix
)
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import openvino  # noqa: E402

VALIDATION_SEEDS = 500  # training seeds, apart from the calibration frames


def _convolutions(model: openvino.Model) -> list[str]:
    """Names of the model's convolutions in topological order."""
    return [op.get_friendly_name() for op in model.get_ordered_ops()
            if op.get_type_name() in ('Convolution', 'GroupConvolution')]


def _measure(compiled: openvino.CompiledModel, held_out: list, runs: int,
             reference: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    request = compiled.create_infer_request()

    def run(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        result = request.infer({'image': frame[None]})
        return result['labels'][0].copy(), result['depth'][0].copy()

    figures = score(run, held_out, runs, reference)
    figures.pop('outputs')
    return figures


def _accuracy_controlled(core: openvino.Core, model: openvino.Model, calibration: list,
                         config: dict) -> openvino.Model:
    """Quantise, then let NNCF return operators to float until labels agree within 0.5 %."""
    validation = [(index, render_frame(seed).rgb[None]) for index, seed in
                  enumerate(range(VALIDATION_SEEDS, VALIDATION_SEEDS + 16))]
    reference = core.compile_model(model, 'CPU', config).create_infer_request()
    expected = [reference.infer({'image': frame})['labels'].copy() for _, frame in validation]

    def agreement(compiled: openvino.CompiledModel, items: list) -> float:
        request = compiled.create_infer_request()
        return float(np.mean([(request.infer({'image': frame})['labels'] == expected[index])
                              .mean() for index, frame in items]))

    return nncf.quantize_with_accuracy_control(
        model, nncf.Dataset(calibration), nncf.Dataset(validation), agreement, max_drop=0.005,
        drop_type=nncf.DropType.ABSOLUTE, subset_size=len(calibration),
        preset=nncf.QuantizationPreset.MIXED)


def main() -> None:
    """Time and score every setting; print one table (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--runs', type=int, default=30)
    parser.add_argument('--calibration', type=int, default=32,
                        help='rendered frames of training seeds to calibrate on')
    parser.add_argument('--held-out', type=int, default=16,
                        help='rendered frames of held-out seeds to score on')
    parser.add_argument('--held-out-seed', type=int, default=HELD_OUT_SEED,
                        help='seed of the first held-out frame (default: %(default)s)')
    parser.add_argument('--only', nargs='+', help='names (substrings) of settings to run')
    parser.add_argument('--json', type=Path, help='also write the figures here')
    args = parser.parse_args()
    calibration = [render_frame(seed).rgb[None] for seed in range(args.calibration)]
    held_out = [render_frame(args.held_out_seed + index) for index in range(args.held_out)]
    core = openvino.Core()
    config = {'INFERENCE_NUM_THREADS': args.threads, 'PERFORMANCE_HINT': 'LATENCY'}
    with tempfile.TemporaryDirectory() as work:
        fp32 = Path(work) / 'fp32.onnx'
        export_onnx(default_model_path(), fp32)
        baseline = measure(fp32, held_out, args.threads, args.runs, None)
        reference = baseline.pop('outputs')
        rows = [{'setting': 'onnxruntime fp32', **baseline, 'labels_agree': 1.0}]
        model = core.read_model(str(fp32))
        convolutions = _convolutions(model)
        overflow_fix = AdvancedQuantizationParameters(overflow_fix=OverflowFix.ENABLE)
        shipped = float_operators(onnx.load(str(fp32)), model)
        settings = {
            'openvino fp32': None,
            'openvino int8 (nncf, mixed preset)': (nncf.IgnoredScope(), None),
            'openvino int8, first conv float': (nncf.IgnoredScope(names=convolutions[:1]),
                                                None),
            'openvino int8, first conv + heads float': (nncf.IgnoredScope(
                names=convolutions[:1] + convolutions[-4:]), None),
            'openvino int8, overflow fix': (nncf.IgnoredScope(), overflow_fix),
            'openvino int8, overflow fix, first conv + heads float (shipped)': (
                nncf.IgnoredScope(names=shipped, validate=False), overflow_fix)}
        chosen = {name: setting for name, setting in settings.items()
                  if not args.only or any(part in name for part in args.only)}
        networks = {name: model if setting is None else nncf.quantize(
            model, nncf.Dataset(calibration), subset_size=len(calibration),
            preset=nncf.QuantizationPreset.MIXED, ignored_scope=setting[0],
            **({'advanced_parameters': setting[1]} if setting[1] else {}))
            for name, setting in chosen.items()}
        accuracy_control = 'openvino int8, accuracy control (labels within 0.5 %)'
        if not args.only or any(part in accuracy_control for part in args.only):
            networks[accuracy_control] = _accuracy_controlled(core, model, calibration, config)
        for name, network in networks.items():
            precision = {'INFERENCE_PRECISION_HINT': 'f32'}
            compiled = core.compile_model(network, 'CPU', {**config, **precision})
            rows.append({'setting': name, **_measure(compiled, held_out, args.runs,
                                                     reference)})
            print(f'{name}: {rows[-1]["median_ms"]:.1f} ms', file=sys.stderr)
    report(rows, args.threads, args.json)


if __name__ == '__main__':
    main()
