# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Run the CUDA paths once on a machine with a GPU and time them: the checks CI cannot make.

Usage: python bench/gpu_checks.py OUTPUT_FOLDER [--quick]

Writes ``gpu_results.json`` and ``benchmarks_gpu.md`` into OUTPUT_FOLDER (copy them to
``bench/results_gpu.json`` and ``docs/benchmarks_gpu.md``). Needs torch with CUDA; ONNX
Runtime's CUDA and TensorRT providers are used where the installed onnxruntime offers them.
ROS 2 and Open3D are not needed. ``bench/run_on_gpu.sh`` installs carried wheels and runs it.

Checks (each compared with the torch float32 Predictor on the CPU, the reference):
the torch Predictor on CUDA in float32 and float16, the ONNX Runtime engine on its best GPU
provider, a float16-autocast (AMP) training run with ``--stop-after`` and ``--resume`` on
CUDA. Timings: the network forward variants, one Predictor frame stage by stage, three
cameras' frames as one batch against one pass each (``infer_batch``), training images per
second, and, where rclpy is importable (``run_on_gpu.sh`` carries the ROS 2 wheels), the node
itself over DDS on the GPU with each engine in float16 (closed loop, 10 Hz, 30 Hz, flat out).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import subprocess
import sys
import tempfile
import time

from mtl_perception.checkpoint import load_checkpoint
from mtl_perception.default_model import default_model_path
from mtl_perception.engines.loading import load_engine
from mtl_perception.engines.onnxruntime_engine import tensorrt_libraries_found
from mtl_perception.engines.torch_engine import Predictor
from mtl_perception.synthetic import kitti_like_intrinsics, render_frame
import numpy as np
from run_benchmarks import (_cuda_forward_rows, _onnxruntime_forward_rows, bench_predictor_stages,
                            bench_training, machine)
import torch

ROOT = Path(__file__).resolve().parents[1]
FRAMES = ((192, 640), (375, 1242))
TRAIN_SETTINGS = [
    'data.train=[{type: synthetic, seeds: [0, 16], size: [96, 320]}]',
    'data.val=[{type: synthetic, seeds: [1000000, 1000004], size: [96, 320]}]',
    'data.input_size=[96, 320]', 'data.base_size=[96, 320]', 'train.batch_size=4',
    'train.epochs=2', 'train.amp=true', 'train.device=cuda', 'data.workers=2',
]


def _agreement(reference, candidate) -> dict[str, float]:
    """Share of equal class ids and the depth difference over pixels valid in both."""
    valid = np.isfinite(reference.depth) & np.isfinite(candidate.depth)
    relative = np.abs(candidate.depth[valid] - reference.depth[valid]) / reference.depth[valid]
    return {'labels_equal': float(np.mean(reference.labels == candidate.labels)),
            'depth_valid_both': float(valid.mean()),
            'depth_median_relative_difference': float(np.median(relative)),
            'depth_p99_relative_difference': float(np.quantile(relative, 0.99))}


def check_predictors(model: Path) -> dict[str, object]:
    """Every GPU engine against the CPU float32 reference on rendered frames."""
    reference = Predictor.from_checkpoint(model, device='cpu')
    candidates = {
        'torch cuda float32': lambda: Predictor.from_checkpoint(model, device='cuda',
                                                                half=False),
        'torch cuda float16': lambda: Predictor.from_checkpoint(model, device='cuda',
                                                                half=True),
        'onnxruntime cuda': lambda: load_engine(model, backend='onnxruntime',
                                                device='cuda'),
    }
    results: dict[str, object] = {}
    for name, load in candidates.items():
        try:
            engine = load()
        except Exception as error:  # noqa: B902  report an engine that fails, keep going
            results[name] = {'error': f'{type(error).__name__}: {error}'[:400]}
            continue
        entry: dict[str, object] = {'provider': getattr(engine, 'provider', 'torch')}
        for height, width in FRAMES:
            intrinsics = kitti_like_intrinsics(width, height)
            frame = render_frame(1_000_000 + width, intrinsics=intrinsics)
            entry[f'{width}x{height}'] = _agreement(reference.predict(frame.rgb),
                                                    engine.predict(frame.rgb))
        results[name] = entry
    return results


def check_amp_training(folder: Path) -> dict[str, object]:
    """Train on CUDA with AMP in two sittings (``--stop-after 1``, then ``--resume``)."""
    command = [sys.executable, '-m', 'mtl_perception', 'mtl_train', '--output', str(folder),
               '--no-progress']
    for setting in TRAIN_SETTINGS:
        command += ['--set', setting]
    runs = [subprocess.run(command + extra, capture_output=True, text=True, timeout=400)
            for extra in (['--stop-after', '1'], ['--resume'])]
    metrics = (folder / 'metrics.csv').read_text() if (folder / 'metrics.csv').is_file() else ''
    return {'exit_codes': [run.returncode for run in runs],
            'stderr_tail': [run.stderr[-600:] for run in runs],
            'metrics_csv': metrics, 'files': sorted(path.name for path in folder.iterdir())}


def bench(model: Path, repeats: int) -> dict[str, object]:
    """Forward variants, Predictor stages (torch float16 and ONNX Runtime), training rate."""
    network = load_checkpoint(model).model.float().eval()
    rows = _onnxruntime_forward_rows(network, repeats) + _cuda_forward_rows(network, repeats)
    predictor = Predictor.from_checkpoint(model, device='cuda', half=True)
    engine = load_engine(model, backend='onnxruntime', device='cuda')
    image = render_frame(1_000_000).rgb
    return {'forward': rows,
            'predictor_stages': bench_predictor_stages(predictor, engine, image, repeats * 4),
            'camera_batches': bench_camera_batches(model, repeats * 4),
            'training': bench_training(4 if repeats < 10 else 16)}


def bench_camera_batches(model: Path, repeats: int, cameras: int = 3) -> dict[str, object]:
    """Three cameras' 640x192 frames: one ``infer_batch`` against a pass per frame, per engine.

    What a node with several cameras gains on the GPU; each batch result is also checked
    against its frame run alone.
    """
    frames = [render_frame(1_000_000 + index).rgb for index in range(cameras)]
    engines = {'torch float16': Predictor.from_checkpoint(model, device='cuda', half=True),
               'onnxruntime': load_engine(model, backend='onnxruntime', device='cuda')}
    results = {}
    for name, engine in engines.items():
        def one_by_one() -> None:
            for frame in frames:
                engine.predict(frame)

        def batched() -> None:
            for result in engine.infer_batch(frames):
                result.labels.cpu(), result.depth.cpu()

        times = {}
        for label, run in (('one by one', one_by_one), ('batch', batched)):
            for _ in range(3):
                run()
            torch.cuda.synchronize()
            runs = []
            for _ in range(repeats):
                started = time.perf_counter()
                run()
                torch.cuda.synchronize()
                runs.append((time.perf_counter() - started) * 1000.0)
            times[label] = float(np.median(runs))
        alone = [engine.predict(frame) for frame in frames]
        together = engine.infer_batch(frames)
        equal = float(np.mean([(a.labels == b.labels.cpu().numpy()).mean()
                               for a, b in zip(alone, together)]))
        results[name] = {'provider': engine.provider, 'one_by_one_ms': times['one by one'],
                         'batch_ms': times['batch'], 'labels_equal': equal,
                         'frames_per_second_batched': cameras * 1000.0 / times['batch']}
    return results


def bench_node_on_gpu(model: Path, seconds: float) -> dict[str, object]:
    """Run perception_node over DDS on the GPU with each engine (float16: the default)."""
    try:
        from node_benchmark import bench_node
    except ImportError as error:
        return {'skipped': f'ROS 2 is not importable here ({error}); bench/run_on_gpu.sh '
                           'carries its wheels'}
    image = render_frame(1_000_000).rgb
    results: dict[str, object] = {}
    for label, backend in (('onnxruntime fp16 (TensorRT, else CUDA)', 'onnxruntime'),
                           ('torch fp16', 'torch')):
        try:
            results[label] = bench_node(model, image, seconds, backend)
        except Exception as error:  # noqa: B902  one engine failing must not hide the other
            results[label] = {'error': f'{type(error).__name__}: {error}'[:300]}
    return results


def _node_lines(node: dict) -> list[str]:
    if 'skipped' in node:
        return ['', '## The node over DDS on the GPU', '', f"Not measured: {node['skipped']}."]
    lines = ['', '## The node over DDS on the GPU (640x192 frames, default parameters)', '',
             'Targets: >= 200 Hz flat out; p50 <= 5 ms camera to cloud at 30 Hz.', '',
             '| engine | mode | out Hz | dropped / sent | p50 ms | p95 ms |',
             '| --- | --- | --- | --- | --- | --- |']
    for label, entry in node.items():
        if 'error' in entry:
            lines.append(f"| {label} | failed: {entry['error']} | | | | |")
            continue
        for mode in ('closed loop', '10 Hz', '30 Hz', 'flat out'):
            row = entry[mode]
            lines.append(f"| {label} | {mode} | {row['throughput_hz']:.1f} | {row['dropped']} / "
                         f"{row['frames_sent']} | {row.get('latency_p50_ms', float('nan')):.1f}"
                         f" | {row.get('latency_p95_ms', float('nan')):.1f} |")
    return lines


def write_markdown(results: dict, path: Path) -> None:
    """Render the results as the GPU page of the benchmarks."""
    info = results['machine']
    lines = ['# GPU checks and benchmarks', '',
             '<!-- generated by bench/gpu_checks.py; do not edit by hand -->', '',
             f"**Machine:** {info['gpu']}; {info['cpu']}, {info['cores']} cores; Python "
             f"{info['python']}, torch {info['torch']}, onnxruntime {info['onnxruntime']}; "
             f"{info['date']}.", '',
             f"TensorRT: {results['tensorrt']}", '',
             '## Correctness against the CPU float32 Predictor', '',
             '| engine | provider | frame | class ids equal | depth median rel. diff | '
             'depth p99 rel. diff |', '| --- | --- | --- | --- | --- | --- |']
    for name, entry in results['predictors'].items():
        if 'error' in entry:
            lines.append(f"| {name} | failed: {entry['error']} | | | | |")
            continue
        for frame, figures in entry.items():
            if frame == 'provider':
                continue
            lines.append(f"| {name} | {entry['provider']} | {frame} | "
                         f"{100 * figures['labels_equal']:.2f} % | "
                         f"{figures['depth_median_relative_difference']:.2e} | "
                         f"{figures['depth_p99_relative_difference']:.2e} |")
    amp = results['amp_training']
    lines += ['', '## AMP training on CUDA in two sittings', '',
              f"`mtl_train --stop-after 1`, then `--resume`: exit codes {amp['exit_codes']}; "
              f"files {', '.join(amp['files'])}.", '', '```', amp['metrics_csv'].strip(), '```',
              '', '## Network forward (batch 1)', '',
              '| device | variant | size | median ms | p95 ms |',
              '| --- | --- | --- | --- | --- |']
    for row in results['bench']['forward']:
        timing = (f"failed: {row['error']} | " if 'error' in row else
                  f"{row['median_ms']:.2f} | {row['p95_ms']:.2f} |")
        lines.append(f"| {row['device']} ({row['threads']} threads) | {row['variant']} | "
                     f"{row['size']} | {timing}")
    lines += ['', '## One Predictor frame (1242x375 rendered frame, torch float16 and ONNX '
              'Runtime on the GPU)', '', '| stage | median ms | p95 ms |', '| --- | --- | --- |']
    for stage, timing in results['bench']['predictor_stages'].items():
        lines.append(f"| {stage} | {timing['median_ms']:.3f} | {timing['p95_ms']:.3f} |")
    if 'camera_batches' in results['bench']:
        lines += ['', '## Three cameras: one batch against a pass per frame (640x192)', '',
                  '| engine | provider | 3 frames one by one, ms | one batch of 3, ms | '
                  'frames/s batched | class ids equal |', '| --- | --- | --- | --- | --- | --- |']
        for name, entry in results['bench']['camera_batches'].items():
            lines.append(f"| {name} | {entry['provider']} | {entry['one_by_one_ms']:.2f} | "
                         f"{entry['batch_ms']:.2f} | {entry['frames_per_second_batched']:.0f} | "
                         f"{100 * entry['labels_equal']:.2f} % |")
    training = results['bench']['training']
    lines += ['', f"## Training rate ({training['input_size']}, batch "
              f"{training['batch_size']}, AMP)", '', '| layout | images/s |', '| --- | --- |']
    for layout in ('NHWC', 'NCHW'):
        lines.append(f"| {layout} | {training[layout]['images_per_second']:.0f} |")
    lines += _node_lines(results.get('node', {'skipped': (
        'ROS 2 was not installed on this machine; bench/run_on_gpu.sh now carries its wheels '
        'and runs the node (issue #22), but no GPU has been lent since')}))
    path.write_text('\n'.join(lines) + '\n')


def main() -> None:
    """Run every check and benchmark; write the JSON and the Markdown page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('output', type=Path, help='folder for the results')
    parser.add_argument('--quick', action='store_true', help='fewer repeats (smoke run)')
    parser.add_argument('--model', type=Path, default=default_model_path(),
                        help='checkpoint (default: the default weights)')
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit('gpu_checks: torch sees no CUDA device here')
    args.output.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault('MTL_PERCEPTION_CACHE', tempfile.mkdtemp(prefix='mtl_cache_'))
    results: dict[str, object] = {'machine': machine(), 'tensorrt': (
        'its libraries were found and its rows are below' if tensorrt_libraries_found() else
        '**not measured**: its runtime (libnvinfer) is not installed here, and onnxruntime-gpu '
        'does not bring it')}
    saved = args.output / 'gpu_results.json'
    results['predictors'] = check_predictors(args.model)
    saved.write_text(json.dumps(results, indent=2) + '\n')
    with tempfile.TemporaryDirectory() as folder:
        results['amp_training'] = check_amp_training(Path(folder) / 'run')
    saved.write_text(json.dumps(results, indent=2) + '\n')
    results['bench'] = bench(args.model, 3 if args.quick else 15)
    saved.write_text(json.dumps(results, indent=2) + '\n')
    results['node'] = bench_node_on_gpu(args.model, 3.0 if args.quick else 10.0)
    saved.write_text(json.dumps(results, indent=2) + '\n')
    write_markdown(results, args.output / 'benchmarks_gpu.md')


if __name__ == '__main__':
    main()
