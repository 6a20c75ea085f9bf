# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Run every benchmark and regenerate docs/benchmarks.md and bench/results.json.

Usage: python bench/run_benchmarks.py [--quick] [--model PATH] [--node-seconds S]
                                      [--only SECTION ...]

Each figure is the median (and 95th percentile) of repeated runs after warm-up, timed with
``time.perf_counter`` (CUDA timings are synchronised). CUDA rows appear only where a GPU is
present. The node benchmark starts ``perception_node`` as a separate process and drives it
over DDS from this process; section ``int8`` does the same with the INT8 engine beside FP32
(``bench/int8_engine_benchmark.py``; needs ``openvino`` and ``nncf``). ``--only`` runs some
sections and prints their JSON without touching the report.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime
import importlib
import io
import json
import os
from pathlib import Path
import platform
import time
from typing import Callable
import warnings

from mtl_perception.default_model import default_model_path
from mtl_perception.engines.contract import DevicePrediction, Engine
from mtl_perception.engines.loading import load_engine
from mtl_perception.engines.onnxruntime_engine import usable_providers
from mtl_perception.engines.torch_engine import Predictor
from mtl_perception.synthetic import CLASS_SET, kitti_like_intrinsics, render_frame
import numpy as np
from report import write_report
from timing import time_call
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
FORWARD_SIZES = ((480, 640, 'paper reference'), (375, 1242, 'KITTI raw'),
                 (192, 640, 'default weights input'), (96, 320, 'first default weights input'))
SECTIONS = ('forward', 'predictor_stages', 'fusion', 'node', 'cameras', 'int8', 'training')
LAYOUTS = (('NCHW', torch.contiguous_format), ('NHWC', torch.channels_last))


def _cpu_forward_rows(model: nn.Module, repeats: int) -> list[dict[str, object]]:
    rows = []
    for threads in sorted({1, torch.get_num_threads()}):
        torch.set_num_threads(threads)
        for height, width, purpose in FORWARD_SIZES:
            runs = repeats if height * width < 100_000 else max(3, repeats // 3)
            for layout_name, layout in LAYOUTS:
                net = model.to(memory_format=layout)
                batch = torch.randn(1, 3, height, width).contiguous(memory_format=layout)
                with torch.inference_mode():
                    timing = time_call(lambda: net(batch), runs)
                rows.append({'device': 'cpu', 'variant': f'fp32 {layout_name}',
                             'threads': threads, 'size': f'{width}x{height}',
                             'purpose': purpose, **timing})
    height, width, purpose = FORWARD_SIZES[-1]
    row = {'device': 'cpu', 'variant': 'fp32 NHWC torch.compile', 'threads': threads,
           'size': f'{width}x{height}', 'purpose': purpose}
    try:
        compiled = torch.compile(model.to(memory_format=torch.channels_last))
        batch = torch.randn(1, 3, height, width).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            started = time.perf_counter()
            compiled(batch)
            row['compile_s'] = time.perf_counter() - started
            row.update(time_call(lambda: compiled(batch), repeats))
    except Exception as error:  # noqa: B902  report a variant that fails, keep going
        row['error'] = f'{type(error).__name__}: {error}'[:200]
    rows.append(row)
    return rows


def _cuda_graph(net: nn.Module, batch: torch.Tensor) -> Callable[[], object]:
    """Capture one forward pass in a CUDA graph; return its replay."""
    static_input = batch.clone()
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream), torch.no_grad():
        for _ in range(3):
            net(static_input)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph), torch.no_grad():
        net(static_input)
    return graph.replay


def _cuda_forward_rows(model: nn.Module, repeats: int) -> list[dict[str, object]]:
    rows = []
    device_name = torch.cuda.get_device_name()
    for height, width, purpose in FORWARD_SIZES:
        variants = (('fp32 NCHW', torch.float32, torch.contiguous_format, None),
                    ('fp16 NCHW', torch.float16, torch.contiguous_format, None),
                    ('fp16 NHWC', torch.float16, torch.channels_last, None),
                    ('fp16 NHWC torch.compile', torch.float16, torch.channels_last, 'compile'),
                    ('fp16 NHWC CUDA graph', torch.float16, torch.channels_last, 'graph'))
        for variant, dtype, layout, extra in variants:
            row = {'device': device_name, 'variant': variant, 'threads': '-',
                   'size': f'{width}x{height}', 'purpose': purpose}
            try:
                net = copy.deepcopy(model).cuda().to(dtype=dtype, memory_format=layout)
                batch = torch.randn(1, 3, height, width, device='cuda', dtype=dtype).to(
                    memory_format=layout)
                if extra == 'compile':
                    compiled = torch.compile(net, dynamic=False)  # one size per network
                    run = lambda: compiled(batch)  # noqa: E731
                elif extra == 'graph':
                    run = _cuda_graph(net, batch)
                else:
                    run = lambda: net(batch)  # noqa: E731
                with torch.inference_mode():
                    row.update(time_call(run, repeats * 5, warmup=10, cuda=True))
            except Exception as error:  # noqa: B902  report a variant that fails, keep going
                row['error'] = f'{type(error).__name__}: {error}'[:200]
            rows.append(row)
    return rows


def _network_graph(model: nn.Module, example: torch.Tensor) -> bytes:
    """Export the network alone (normalised NCHW input, raw outputs) as an ONNX graph."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        program = torch.onnx.export(model, (example,), dynamo=True, opset_version=18)
    return program.model_proto.SerializeToString()


def _onnxruntime_forward_rows(model: nn.Module, repeats: int) -> list[dict[str, object]]:
    """Time the same forward pass exported and run by ONNX Runtime (CPU, CUDA, TensorRT)."""
    import onnxruntime
    available = usable_providers(onnxruntime.get_available_providers())
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else 'GPU'
    engines = [('cpu', 'CPUExecutionProvider', {}, threads)
               for threads in sorted({1, torch.get_num_threads()})]
    if 'CUDAExecutionProvider' in available:
        engines.append((gpu, 'CUDAExecutionProvider', {}, '-'))
    if 'TensorrtExecutionProvider' in available:
        engines.append((gpu, 'TensorrtExecutionProvider', {'trt_fp16_enable': True}, '-'))
    rows = []
    for height, width, purpose in FORWARD_SIZES:
        runs = repeats if height * width < 100_000 else max(3, repeats // 3)
        for precision, dtype in (('fp32', torch.float32), ('fp16', torch.float16)):
            example = torch.randn(1, 3, height, width).to(dtype)
            graph = _network_graph(copy.deepcopy(model).to(dtype), example)
            for device, provider, provider_options, threads in engines:
                row = {'device': device, 'threads': threads, 'size': f'{width}x{height}',
                       'purpose': purpose,
                       'variant': f'onnxruntime {precision} {provider.replace("Execution", " ")}'}
                try:
                    options = onnxruntime.SessionOptions()
                    options.intra_op_num_threads = threads if threads != '-' else 0
                    session = onnxruntime.InferenceSession(
                        graph, options, providers=[(provider, provider_options)])
                    if session.get_providers()[0] != provider:
                        raise RuntimeError(f'{provider} could not start (ONNX Runtime fell '
                                           f'back to {session.get_providers()[0]})')
                    feed = {session.get_inputs()[0].name: example.numpy()}
                    row.update(time_call(lambda: session.run(None, feed), runs))
                except Exception as error:  # noqa: B902  report a variant that fails
                    row['error'] = f'{type(error).__name__}: {error}'[:200]
                rows.append(row)
    return rows


def bench_forward(model: nn.Module, repeats: int) -> list[dict[str, object]]:
    """Network forward pass alone: torch CPU layouts and threads, ONNX Runtime, CUDA variants."""
    model = copy.deepcopy(model).float().cpu().eval()
    threads = torch.get_num_threads()
    try:
        rows = _cpu_forward_rows(model, repeats)
    finally:
        torch.set_num_threads(threads)
    rows += _onnxruntime_forward_rows(model, repeats)
    if torch.cuda.is_available():
        rows += _cuda_forward_rows(model, repeats)
    return rows


def bench_predictor_stages(predictor: Predictor, engine: Engine, image: np.ndarray,
                           repeats: int) -> dict[str, dict[str, float]]:
    """Each stage of one Predictor frame, class ids the old and the new way, both engines."""
    cuda = predictor.device.type == 'cuda'
    uploaded = predictor.upload(image)
    network_input = predictor.preprocess(uploaded)
    with torch.inference_mode():
        outputs = predictor.model(network_input)
        result = predictor.postprocess(outputs, image.shape[:2])
        logits = torch.nn.functional.interpolate(outputs['segmentation'],
                                                 size=image.shape[:2], mode='bilinear',
                                                 align_corners=False)
        nchw_logits = logits.contiguous()

        def download() -> object:
            return result.labels.cpu().numpy(), result.depth.cpu().numpy()

        stages = {
            'upload': lambda: predictor.upload(image),
            'preprocess': lambda: predictor.preprocess(uploaded),
            'forward': lambda: predictor.model(network_input),
            'postprocess': lambda: predictor.postprocess(outputs, image.shape[:2]),
            'download': download,
            'whole predict()': lambda: predictor.predict(image),
            'whole predict(), onnxruntime': lambda: engine.predict(image),
            'class ids: argmax(1) of NCHW logits (before)': lambda: nchw_logits.argmax(1),
            'class ids: max(1).indices of NCHW logits': lambda: nchw_logits.max(1).indices,
            'class ids: max(1).indices of NHWC logits (now)': lambda: logits.max(1).indices,
        }
        return {name: time_call(stage, repeats, cuda=cuda) for name, stage in stages.items()}


def _numpy_fusion(depth: np.ndarray, labels: np.ndarray, palette: np.ndarray, k) -> bytes:
    """Fuse the straightforward way: grids and a structured array built per frame."""
    rows, cols = np.mgrid[0:depth.shape[0], 0:depth.shape[1]]
    x = (cols - k.cx) / k.fx * depth
    y = (rows - k.cy) / k.fy * depth
    colours = palette[labels].astype(np.uint32)
    packed = (colours[..., 0] << 16) | (colours[..., 1] << 8) | colours[..., 2]
    cloud = np.zeros(depth.shape, dtype=[('x', 'f4'), ('y', 'f4'), ('z', 'f4'), ('rgb', 'f4'),
                                         ('label', 'u4')])
    cloud['x'], cloud['y'], cloud['z'] = x, y, depth
    cloud['rgb'] = packed.view(np.float32)
    cloud['label'] = labels
    return cloud.tobytes()


OURS = 'ours: OutputBuilder.points (PointCloud2 ready to publish)'
OPEN3D = 'Open3D create_from_rgbd_image (no message)'
NUMPY = 'plain numpy (grids + structured array per frame)'


def bench_fusion(repeats: int) -> dict[str, object]:
    """Depth + labels to a coloured cloud: ours, Open3D and plain numpy on the same frames."""
    import open3d
    from mtl_perception.ros.outputs import OutputBuilder
    from std_msgs.msg import Header
    results = {}
    for width, height in ((640, 480), (1242, 375)):
        intrinsics = kitti_like_intrinsics(width, height)
        frame = render_frame(7, intrinsics=intrinsics)
        depth = np.nan_to_num(frame.depth, nan=0.0).astype(np.float32)
        labels = frame.labels
        palette = CLASS_SET.palette
        colour = np.ascontiguousarray(palette[labels])
        header = Header(frame_id='camera_optical_frame')
        builder = OutputBuilder(palette, torch.device('cpu'))
        prediction = DevicePrediction(
            labels=torch.from_numpy(labels),
            depth=torch.from_numpy(np.where(depth > 0, depth, np.nan).astype(np.float32)))
        camera = open3d.camera.PinholeCameraIntrinsic(width, height, intrinsics.fx,
                                                      intrinsics.fy, intrinsics.cx,
                                                      intrinsics.cy)

        def with_open3d() -> object:
            rgbd = open3d.geometry.RGBDImage.create_from_color_and_depth(
                open3d.geometry.Image(colour), open3d.geometry.Image(depth), depth_scale=1.0,
                depth_trunc=1000.0, convert_rgb_to_intensity=False)
            return open3d.geometry.PointCloud.create_from_rgbd_image(rgbd, camera)

        timings = {OURS: time_call(lambda: builder.points(prediction, intrinsics, 1, header),
                                   repeats * 3),
                   OPEN3D: time_call(with_open3d, repeats * 3),
                   NUMPY: time_call(lambda: _numpy_fusion(depth, labels, palette, intrinsics),
                                    repeats * 3)}
        ours_ms = timings[OURS]['median_ms']
        results[f'{width}x{height}'] = {
            'timings': timings, 'open3d_over_ours': timings[OPEN3D]['median_ms'] / ours_ms,
            'numpy_over_ours': timings[NUMPY]['median_ms'] / ours_ms}
    return results


def bench_training(steps: int) -> dict[str, object]:
    """Images per second of the default synthetic configuration, in both memory layouts."""
    from mtl_perception.training.config import load_config
    from mtl_perception.training.train import Trainer
    results: dict[str, object] = {}
    for layout, channels_last in (('NHWC', 'true'), ('NCHW', 'false')):
        config = load_config(ROOT / 'config' / 'train_synthetic.yaml', [
            f'data.train=[{{type: synthetic, seeds: [0, {8 * (steps + 2)}], '
            'size: [192, 640], cache_dir: .cache/synthetic}]',
            'data.val=[{type: synthetic, seeds: [1000000, 1000001]}]',
            f'train.channels_last={channels_last}'])
        trainer = Trainer(config, Path('/tmp/mtl_bench_training'), command='bench',
                          progress=False)
        batches = iter(trainer._loader(0))
        step_batches = [{name: value.to(trainer.device) for name, value in next(batches).items()}
                        for _ in range(steps + 1)]
        trainer._step(step_batches[0])
        timing = time_call(lambda it=iter(step_batches[1:]): trainer._step(next(it)), steps,
                           warmup=0, cuda=trainer.device.type == 'cuda')
        batch = int(config['train']['batch_size'])
        results[layout] = {'images_per_second': 1000.0 * batch / timing['median_ms'],
                           **timing}
        crop = config['data']['crop_size'] or config['data']['input_size']
        results.update(batch_size=batch, input_size='x'.join(map(str, crop[::-1])))
    return results


def _version(module: str) -> str:
    """Version of an optional module, or 'absent' (the GPU checks run without ROS or Open3D)."""
    try:
        return importlib.import_module(module).__version__
    except ImportError:
        return 'absent'


def machine() -> dict[str, str]:
    """Name the machine the figures come from."""
    cpu = next((line.split(':', 1)[1].strip() for line in
                Path('/proc/cpuinfo').read_text().splitlines()
                if line.startswith('model name')), platform.processor())
    return {'cpu': cpu, 'cores': str(os.cpu_count()), 'torch_threads':
            str(torch.get_num_threads()),
            'gpu': torch.cuda.get_device_name() if torch.cuda.is_available() else 'none',
            'python': platform.python_version(), 'torch': torch.__version__,
            'open3d': _version('open3d'), 'onnxruntime': _version('onnxruntime'),
            'date': datetime.date.today().isoformat()}


def main() -> None:
    """Run the chosen sections; with all of them, write the JSON and Markdown reports."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='fewer repeats (smoke run)')
    parser.add_argument('--model', type=Path, default=default_model_path(),
                        help='checkpoint to benchmark (default: the default weights)')
    parser.add_argument('--node-seconds', type=float, default=10.0,
                        help='seconds per node mode (default 10)')
    parser.add_argument('--only', nargs='+', choices=SECTIONS,
                        help='run these sections, print their JSON, leave the report alone')
    args = parser.parse_args()
    sections = args.only or SECTIONS
    repeats = 3 if args.quick else 15
    predictor = Predictor.from_checkpoint(args.model, device='auto')
    image = render_frame(1_000_000).rgb
    results: dict[str, object] = {'machine': machine()}
    if 'forward' in sections:
        results['forward'] = bench_forward(predictor.model, repeats)
    if 'predictor_stages' in sections:
        engine = load_engine(args.model, backend='onnxruntime', device='auto')
        results['predictor_stages'] = bench_predictor_stages(predictor, engine, image, repeats)
    if 'fusion' in sections:
        results['fusion'] = bench_fusion(repeats)
    if 'node' in sections:
        from node_benchmark import bench_node, bench_null_relay
        seconds = 3.0 if args.quick else args.node_seconds
        results['node'] = bench_node(args.model, image, seconds, 'onnxruntime')
        results['null_relay'] = bench_null_relay(args.model, image, seconds, 'onnxruntime')
        results['node_torch'] = bench_node(args.model, image, seconds, 'torch')
    if 'cameras' in sections:
        from cameras_benchmark import bench_cameras
        results['cameras'] = bench_cameras((30.0, 10.0), 3.0 if args.quick else 20.0)
    if 'int8' in sections:
        from int8_engine_benchmark import bench_int8
        results['int8'] = bench_int8(runs=10 if args.quick else 40, frames=4 if args.quick
                                     else 16, node_seconds=3.0 if args.quick else 10.0)
    if 'training' in sections:
        results['training'] = bench_training(2 if args.quick else 8)
    if args.only:
        print(json.dumps(results, indent=2))
        return
    (ROOT / 'bench' / 'results.json').write_text(json.dumps(results, indent=2) + '\n')
    baseline = json.loads((ROOT / 'bench' / 'baseline.json').read_text())
    write_report(results, baseline, ROOT / 'docs' / 'benchmarks.md',
                 ROOT / 'docs' / 'images' / 'benchmark_stages.png')


if __name__ == '__main__':
    main()
