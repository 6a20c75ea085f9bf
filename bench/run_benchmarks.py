"""Run every benchmark and regenerate docs/benchmarks.md and bench/results.json.

Usage: python bench/run_benchmarks.py [--quick] [--model PATH]

Each figure is the median (and 95th percentile) of repeated runs after warm-up, timed with
``time.perf_counter`` (CUDA timings are synchronised). CUDA rows appear only where a GPU is
present. The node benchmark starts ``perception_node`` as a separate process and drives it
over DDS from this process.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
from pathlib import Path
import platform
import signal
import subprocess
import sys
import time

import matplotlib

matplotlib.use('Agg')
from matplotlib import pyplot  # noqa: E402
from mtl_perception.default_model import default_model_path  # noqa: E402
from mtl_perception.inference import DevicePrediction, Predictor  # noqa: E402
from mtl_perception.ros.conversions import array_to_image  # noqa: E402
from mtl_perception.ros.outputs import OutputBuilder  # noqa: E402
from mtl_perception.synthetic import (CLASS_SET, kitti_like_intrinsics,  # noqa: E402
                                      render_frame)
import numpy as np  # noqa: E402
import open3d  # noqa: E402
from std_msgs.msg import Header  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FORWARD_SIZES = ((480, 640, 'paper reference'), (375, 1242, 'KITTI raw'),
                 (96, 320, 'default weights input'))


def _stats(seconds: list[float]) -> dict[str, float]:
    values = np.array(seconds) * 1000.0
    return {'median_ms': float(np.median(values)), 'p95_ms': float(np.percentile(values, 95)),
            'runs': len(values)}


def _time(function, repeats: int, warmup: int = 2, cuda: bool = False) -> dict[str, float]:
    for _ in range(warmup):
        function()
    seconds = []
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize()
        started = time.perf_counter()
        function()
        if cuda:
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - started)
    return _stats(seconds)


def bench_forward(predictor: Predictor, repeats: int) -> list[dict[str, object]]:
    """Network forward pass alone at several sizes, CPU thread counts and CUDA variants."""
    rows = []
    model = predictor.model.float().cpu().eval()
    for threads in sorted({1, torch.get_num_threads()}):
        torch.set_num_threads(threads)
        for height, width, purpose in FORWARD_SIZES:
            batch = torch.randn(1, 3, height, width)
            with torch.inference_mode():
                timing = _time(lambda: model(batch), repeats)
            rows.append({'device': 'cpu', 'variant': f'fp32, {threads} thread(s)',
                         'size': f'{width}x{height}', 'purpose': purpose, **timing})
    if torch.cuda.is_available():
        cuda = model.cuda()
        for height, width, purpose in FORWARD_SIZES:
            for variant, dtype, layout in (('fp32', torch.float32, torch.contiguous_format),
                                           ('fp16', torch.float16, torch.contiguous_format),
                                           ('fp16 channels_last', torch.float16,
                                            torch.channels_last)):
                net = cuda.to(dtype=dtype, memory_format=layout)
                batch = torch.randn(1, 3, height, width, device='cuda', dtype=dtype).to(
                    memory_format=layout)
                with torch.inference_mode():
                    timing = _time(lambda: net(batch), repeats * 5, cuda=True)
                rows.append({'device': torch.cuda.get_device_name(), 'variant': variant,
                             'size': f'{width}x{height}', 'purpose': purpose, **timing})
        predictor.model.float().cpu()
    return rows


def bench_predictor_stages(predictor: Predictor, image: np.ndarray,
                           repeats: int) -> dict[str, dict[str, float]]:
    """Time each stage of one Predictor frame: upload, preprocess, forward, post, download."""
    cuda = predictor.device.type == 'cuda'
    uploaded = predictor.upload(image)
    network_input = predictor.preprocess(uploaded)
    with torch.inference_mode():
        outputs = predictor.model(network_input)
        result = predictor.postprocess(outputs, image.shape[:2])

        def download():
            return result.labels.cpu().numpy(), result.depth.cpu().numpy()

        stages = {
            'upload': lambda: predictor.upload(image),
            'preprocess': lambda: predictor.preprocess(uploaded),
            'forward': lambda: predictor.model(network_input),
            'postprocess': lambda: predictor.postprocess(outputs, image.shape[:2]),
            'download': download,
            'whole predict()': lambda: predictor.predict(image),
        }
        return {name: _time(stage, repeats, cuda=cuda) for name, stage in stages.items()}


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


def bench_fusion(repeats: int) -> dict[str, object]:
    """Depth + labels to a coloured cloud: ours, Open3D and plain numpy on the same frames."""
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

        def ours():
            return builder.points(prediction, intrinsics, 1, header)

        camera = open3d.camera.PinholeCameraIntrinsic(width, height, intrinsics.fx,
                                                      intrinsics.fy, intrinsics.cx,
                                                      intrinsics.cy)

        def with_open3d():
            rgbd = open3d.geometry.RGBDImage.create_from_color_and_depth(
                open3d.geometry.Image(colour), open3d.geometry.Image(depth), depth_scale=1.0,
                depth_trunc=1000.0, convert_rgb_to_intensity=False)
            return open3d.geometry.PointCloud.create_from_rgbd_image(rgbd, camera)

        timings = {'ours (assembly + PointCloud2)': _time(ours, repeats),
                   'Open3D create_from_rgbd_image (no packing)': _time(with_open3d, repeats),
                   'plain numpy (grids + structured array per frame)': _time(
                       lambda: _numpy_fusion(depth, labels, palette, intrinsics), repeats)}
        ours_ms = timings['ours (assembly + PointCloud2)']['median_ms']
        results[f'{width}x{height}'] = {
            'timings': timings,
            'open3d_over_ours': timings['Open3D create_from_rgbd_image (no packing)'][
                'median_ms'] / ours_ms,
            'numpy_over_ours': timings['plain numpy (grids + structured array per frame)'][
                'median_ms'] / ours_ms}
    return results


def _process_usage(pid: int) -> tuple[float, float]:
    """CPU seconds and resident MiB of a process, from /proc."""
    fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
    rss_pages = int(Path(f'/proc/{pid}/statm').read_text().split()[1])
    return cpu, rss_pages * os.sysconf('SC_PAGE_SIZE') / 2**20


def bench_node(model: Path, image: np.ndarray, bare_ms: float,
               seconds: float) -> dict[str, object]:
    """perception_node over DDS at 10 Hz, 30 Hz and flat out; latency, rate, drops, CPU."""
    import rclpy
    from rclpy.node import Node
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import CameraInfo, Image, PointCloud2

    domain = str(1 + os.getpid() % 100)
    env = {**os.environ, 'ROS_DOMAIN_ID': domain}
    os.environ['ROS_DOMAIN_ID'] = domain
    node_process = subprocess.Popen(
        [sys.executable, '-m', 'mtl_perception.ros.node', '--ros-args', '-p',
         f'model:={model}', '-p', 'input_reliability:=reliable', '-p', 'device:=auto'],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rclpy.init()
    client = Node('bench_client')
    reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    image_pub = client.create_publisher(Image, 'image', reliable)
    info_pub = client.create_publisher(CameraInfo, 'camera_info', reliable)
    arrivals = {name: {} for name in ('segmentation', 'depth', 'points')}
    for name, kind in (('segmentation', Image), ('depth', Image), ('points', PointCloud2)):
        client.create_subscription(
            kind, f'mtl_perception/{name}',
            lambda m, n=name: arrivals[n].setdefault(
                m.header.stamp.sec * 10**9 + m.header.stamp.nanosec, time.time()), reliable)
    intrinsics = kitti_like_intrinsics(image.shape[1], image.shape[0])
    info = CameraInfo(width=image.shape[1], height=image.shape[0],
                      k=[float(v) for v in intrinsics.matrix.ravel()])
    message = array_to_image(image, 'rgb8', Header(frame_id='camera_optical_frame'))
    deadline = time.monotonic() + 120
    while client.count_subscribers('image') == 0 and time.monotonic() < deadline:
        rclpy.spin_once(client, timeout_sec=0.1)
    results = {}
    try:
        for label, rate in (('10 Hz', 10.0), ('30 Hz', 30.0), ('flat out', None)):
            sent = {}
            for values in arrivals.values():
                values.clear()
            cpu_before, _ = _process_usage(node_process.pid)
            started = time.monotonic()
            next_send = started
            while time.monotonic() - started < seconds:
                now = time.monotonic()
                if rate is None or now >= next_send:
                    stamp = time.time_ns()
                    header = Header(frame_id='camera_optical_frame')
                    header.stamp.sec, header.stamp.nanosec = divmod(stamp, 10**9)
                    message.header = info.header = header
                    info_pub.publish(info)
                    image_pub.publish(message)
                    sent[stamp] = stamp / 1e9
                    next_send += 1.0 / rate if rate else 0.0
                rclpy.spin_once(client, timeout_sec=0.001 if rate is None else 0.002)
            settle = time.monotonic() + 2.0
            while time.monotonic() < settle:
                rclpy.spin_once(client, timeout_sec=0.01)
            elapsed = time.monotonic() - started
            cpu_after, rss = _process_usage(node_process.pid)
            points = arrivals['points']
            latencies = [(points[s] - sent[s]) * 1000.0 for s in points if s in sent]
            entry = {'frames_sent': len(sent), 'frames_out': len(points),
                     'dropped': len(sent) - len(points),
                     'throughput_hz': len(points) / seconds,
                     'cpu_percent': 100.0 * (cpu_after - cpu_before) / elapsed,
                     'rss_mib': rss}
            if latencies:
                entry.update({f'latency_p{q}_ms': float(np.percentile(latencies, q))
                              for q in (50, 95, 99)})
            results[label] = entry
        flat = results['flat out']
        node_ms = 1000.0 / flat['throughput_hz'] if flat['throughput_hz'] else float('inf')
        results['overhead_ratio'] = node_ms / bare_ms
        results['bare_predictor_ms'] = bare_ms
    finally:
        node_process.send_signal(signal.SIGTERM)
        node_process.wait(timeout=30)
        client.destroy_node()
        rclpy.shutdown()
    return results


def bench_training(steps: int) -> dict[str, float]:
    """Images per second of the default synthetic configuration's training steps."""
    from mtl_perception.training.config import load_config
    from mtl_perception.training.train import Trainer
    config = load_config(ROOT / 'config' / 'train_synthetic.yaml',
                         [f'data.train=[{{type: synthetic, seeds: [0, {8 * (steps + 2)}], '
                          'size: [192, 640], cache_dir: .cache/synthetic}]',
                          'data.val=[{type: synthetic, seeds: [1000000, 1000001]}]'])
    trainer = Trainer(config, Path('/tmp/mtl_bench_training'), command='bench',
                      progress=False)
    batches = iter(trainer._loader(0))
    trainer._step(next(batches))
    started = time.perf_counter()
    for _ in range(steps):
        trainer._step(next(batches))
    seconds = time.perf_counter() - started
    batch = int(config['train']['batch_size'])
    return {'images_per_second': steps * batch / seconds, 'batch_size': batch,
            'input_size': 'x'.join(map(str, config['data']['input_size'][::-1]))}


def machine() -> dict[str, str]:
    """Name the machine the figures come from."""
    cpu = next((line.split(':', 1)[1].strip() for line in
                Path('/proc/cpuinfo').read_text().splitlines()
                if line.startswith('model name')), platform.processor())
    return {'cpu': cpu, 'cores': str(os.cpu_count()), 'torch_threads':
            str(torch.get_num_threads()),
            'gpu': torch.cuda.get_device_name() if torch.cuda.is_available() else 'none',
            'python': platform.python_version(), 'torch': torch.__version__,
            'open3d': open3d.__version__, 'date': datetime.date.today().isoformat()}


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = ['| ' + ' | '.join(header) + ' |', '|' + ' --- |' * len(header)]
    lines += ['| ' + ' | '.join(str(v) for v in row) + ' |' for row in rows]
    return '\n'.join(lines)


def _plot_stages(stages: dict[str, dict[str, float]], path: Path) -> None:
    names = [n for n in stages if n != 'whole predict()']
    medians = [stages[n]['median_ms'] for n in names]
    figure, axis = pyplot.subplots(figsize=(7, 2.8))
    axis.barh(names[::-1], medians[::-1], color='tab:blue')
    axis.set_xlabel('median ms per frame (CPU)')
    axis.set_title('Predictor stages, 640x192 frame, default weights')
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)


def write_report(results: dict[str, object], path: Path) -> None:
    """Write docs/benchmarks.md from the results."""
    info = results['machine']
    forward = _table(['device', 'variant', 'size', 'purpose', 'median ms', 'p95 ms'], [
        [r['device'], r['variant'], r['size'], r['purpose'], f'{r["median_ms"]:.1f}',
         f'{r["p95_ms"]:.1f}'] for r in results['forward']])
    stages = _table(['stage', 'median ms', 'p95 ms'], [
        [name, f'{t["median_ms"]:.2f}', f'{t["p95_ms"]:.2f}']
        for name, t in results['predictor_stages'].items()])
    fusion_rows = []
    for size, entry in results['fusion'].items():
        for name, timing in entry['timings'].items():
            fusion_rows.append([size, name, f'{timing["median_ms"]:.2f}',
                                f'{timing["p95_ms"]:.2f}'])
        fusion_rows.append([size, '**Open3D / ours**', f'**{entry["open3d_over_ours"]:.2f}x**',
                            f'numpy / ours: {entry["numpy_over_ours"]:.2f}x'])
    fusion = _table(['frame', 'method', 'median ms', 'p95 ms'], fusion_rows)
    node = results['node']
    node_rows = [[label, e['frames_sent'], e['frames_out'], e['dropped'],
                  f'{e["throughput_hz"]:.1f}', f'{e.get("latency_p50_ms", float("nan")):.0f}',
                  f'{e.get("latency_p95_ms", float("nan")):.0f}',
                  f'{e.get("latency_p99_ms", float("nan")):.0f}', f'{e["cpu_percent"]:.0f}',
                  f'{e["rss_mib"]:.0f}'] for label, e in node.items() if isinstance(e, dict)]
    node_table = _table(['input', 'sent', 'out', 'dropped', 'out Hz', 'p50 ms', 'p95 ms',
                         'p99 ms', 'node CPU %', 'node RSS MiB'], node_rows)
    training = results['training']
    gpu_note = ('No GPU was available for these figures, so every CUDA variant (fp16, '
                'channels_last, `torch.compile`, CUDA graphs) and the GPU targets are **not '
                'measured**.' if info['gpu'] == 'none' else 'CUDA rows were measured on the '
                'GPU named above; `torch.compile` and CUDA graphs are not benchmarked yet.')
    text = f"""# Benchmarks

Generated by `python bench/run_benchmarks.py` (results also in `bench/results.json`); do not
edit by hand. Medians and 95th percentiles over repeated runs after warm-up.

**Machine:** {info['cpu']}, {info['cores']} cores ({info['torch_threads']} torch threads), GPU:
{info['gpu']}; Python {info['python']}, torch {info['torch']}, Open3D {info['open3d']};
{info['date']}. {gpu_note}

## Network forward pass

{forward}

## Predictor stages (default weights, one 640x192 frame, CPU)

![stages](images/benchmark_stages.png)

{stages}

## Point-cloud fusion and packing (same frames, same run)

Ours: the node's `OutputBuilder.points` (`SemanticCloudAssembler`: cached pixel rays, one
output buffer in the message's point layout, packed palette lookup; then the PointCloud2 around
it). Open3D: `create_from_rgbd_image` on
the same depth and colour, without building a message. Plain numpy: index grids and a
zero-initialised structured array per frame, then `tobytes`.

{fusion}

## perception_node end to end over DDS (CPU, default weights, 640x192 frames)

A publisher in the benchmark process sends frames (stamp = send time) at a fixed rate or as
fast as it can; latency is send to receipt of `~/points` in the same process. The overhead
ratio is the node's flat-out time per frame over the bare `Predictor.predict` time per frame
({node['bare_predictor_ms']:.1f} ms): **{node['overhead_ratio']:.2f}** (target <= 1.15).

{node_table}

## Training throughput (default synthetic configuration, CPU)

{training['images_per_second']:.1f} images/s at batch {training['batch_size']} and input
{training['input_size']}.
"""
    path.write_text(text)


def main() -> None:
    """Run everything and write the JSON and Markdown reports."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='fewer repeats (smoke run)')
    parser.add_argument('--model', type=Path, default=default_model_path())
    parser.add_argument('--node-seconds', type=float, default=10.0)
    args = parser.parse_args()
    repeats = 3 if args.quick else 15
    predictor = Predictor.from_checkpoint(args.model, device='cpu')
    image = render_frame(1_000_000).rgb
    results: dict[str, object] = {'machine': machine()}
    results['forward'] = bench_forward(predictor, repeats)
    torch.set_num_threads(int(results['machine']['torch_threads']))
    predictor = Predictor.from_checkpoint(args.model, device='auto')
    results['predictor_stages'] = bench_predictor_stages(predictor, image, repeats)
    results['fusion'] = bench_fusion(repeats)
    bare_ms = results['predictor_stages']['whole predict()']['median_ms']
    results['node'] = bench_node(args.model, image, bare_ms,
                                 3.0 if args.quick else args.node_seconds)
    results['training'] = bench_training(2 if args.quick else 8)
    (ROOT / 'bench' / 'results.json').write_text(json.dumps(results, indent=2) + '\n')
    (ROOT / 'docs' / 'images').mkdir(parents=True, exist_ok=True)
    _plot_stages(results['predictor_stages'], ROOT / 'docs' / 'images' / 'benchmark_stages.png')
    write_report(results, ROOT / 'docs' / 'benchmarks.md')


if __name__ == '__main__':
    main()
