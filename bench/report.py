# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""docs/benchmarks.md and its stage plot, from the results of one run and the baseline."""

from __future__ import annotations

from pathlib import Path

from cameras_report import cameras_section, cameras_targets, plot_cameras
from int8_report import int8_section, int8_targets
import matplotlib

matplotlib.use('Agg')
from matplotlib import pyplot  # noqa: E402

BASE_OURS = 'ours (assembly + PointCloud2)'
STAGE_COLOURS = {'upload': 'tab:gray', 'preprocess': 'tab:olive', 'forward': 'tab:blue',
                 'postprocess': 'tab:orange', 'download': 'tab:purple',
                 'inference in the node': 'tab:cyan', 'outputs: build + publish': 'tab:red',
                 'DDS both ways + client': 'tab:brown', 'whole predict()': 'tab:green'}


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = ['| ' + ' | '.join(header) + ' |', '|' + ' --- |' * len(header)]
    lines += ['| ' + ' | '.join(str(v) for v in row) + ' |' for row in rows]
    return '\n'.join(lines)


def _forward_ms(rows: list[dict], size: str, variant: str, threads: object = None) -> float:
    for row in rows:
        if (row['size'] == size and row['variant'] == variant
                and (threads is None or row.get('threads') == threads)):
            return row.get('median_ms', float('nan'))
    return float('nan')


def _node_breakdown(node: dict) -> dict[str, float]:
    in_node = node['in_node_closed_loop']
    rest = node['node_frame_ms'] - in_node['inference_ms'] - in_node['outputs_ms']
    return {'inference in the node': in_node['inference_ms'],
            'outputs: build + publish': in_node['outputs_ms'], 'DDS both ways + client': rest}


def plot_stages(results: dict, baseline: dict, path: Path) -> None:
    """Stacked bars: Predictor stages before and now, and the node's time per frame."""
    stages = ('upload', 'preprocess', 'forward', 'postprocess', 'download')
    bars = {f'predict() before ({baseline["commit"]})':
            {s: baseline['predictor_stages'][s]['median_ms'] for s in stages},
            'predict() now, torch': {s: results['predictor_stages'][s]['median_ms']
                                     for s in stages},
            'predict() now, onnxruntime': {'whole predict()': results['predictor_stages'][
                'whole predict(), onnxruntime']['median_ms']},
            'node per frame, torch\n(closed loop over DDS)': _node_breakdown(
                results['node_torch']),
            'node per frame, onnxruntime\n(closed loop over DDS)': _node_breakdown(
                results['node']),
            'null relay per frame\n(no network)': _node_breakdown(results['null_relay'])}
    figure, axis = pyplot.subplots(figsize=(8.5, 4.6))
    labelled = set()
    for row, (name, parts) in enumerate(reversed(bars.items())):
        left = 0.0
        for part, ms in parts.items():
            label = None if part in labelled else part
            labelled.add(part)
            axis.barh(row, ms, left=left, color=STAGE_COLOURS[part], label=label)
            left += ms
        axis.text(left + 1, row, f'{left:.0f} ms', va='center')
    axis.set_yticks(range(len(bars)), list(reversed(bars)))
    axis.set_xlabel('median ms per 640x192 frame, default weights, CPU')
    axis.set_xlim(0, max(sum(p.values()) for p in bars.values()) * 1.15)
    axis.legend(fontsize=7, loc='lower right', ncol=2)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    pyplot.close(figure)


def _before_after(results: dict, baseline: dict) -> str:
    forward, base_forward = results['forward'], baseline['forward']
    stages, base_stages = results['predictor_stages'], baseline['predictor_stages']
    fusion, base_fusion = results['fusion']['640x480'], baseline['fusion']['640x480']
    node, base_node = results['node_torch'], baseline['node']
    rows = []
    for size in ('320x96', '640x480'):
        rows.append([f'forward {size}, CPU 2 threads (ms)',
                     _forward_ms(base_forward, size, 'fp32, 2 thread(s)'),
                     _forward_ms(forward, size, 'fp32 NHWC', 2),
                     'weights and activations channels_last (NHWC): oneDNN depthwise kernels'])
    rows += [
        ['Predictor post-processing, 640x192 (ms)', base_stages['postprocess']['median_ms'],
         stages['postprocess']['median_ms'],
         'class ids by `max(1).indices` instead of `argmax(1)` (same first maximum; argmax '
         'over NCHW channels was the slow part) on NHWC logits'],
        ['whole `predict()`, 640x192 (ms)', base_stages['whole predict()']['median_ms'],
         stages['whole predict()']['median_ms'], 'both of the above'],
        ['cloud + PointCloud2, 640x480 (ms)',
         base_fusion['timings'][BASE_OURS]['median_ms'], fusion['timings'][
             next(iter(fusion['timings']))]['median_ms'],
         'fields as contiguous planes (colour by `cv2.LUT`), one interleaving copy into '
         'reused message memory, no rosidl copy, `is_dense` by one reduction'],
        ['Open3D time / ours, 640x480 (x)', base_fusion['open3d_over_ours'],
         fusion['open3d_over_ours'], 'the same'],
    ]
    for mode in ('10 Hz', '30 Hz', 'flat out'):
        rows.append([f'torch node output rate at {mode} input (Hz)',
                     base_node[mode]['throughput_hz'], node[mode]['throughput_hz'],
                     'all of the above, and inference on the main thread (OpenMP pool '
                     'not throttled)' if mode == '10 Hz' else 'the same'])
        rows.append([f'torch node p50 latency at {mode} input (ms)',
                     base_node[mode].get('latency_p50_ms', float('nan')),
                     node[mode].get('latency_p50_ms', float('nan')), 'the same'])
    body = [[name, f'{before:.2f}', f'{now:.2f}',
             f'{before / now:.2f}x' if 'x)' not in name and 'Hz)' not in name
             else f'{now / before:.2f}x', why] for name, before, now, why in rows]
    return _table(['figure', f'before ({baseline["commit"]})', 'now', 'better by', 'change'],
                  body)


def _engine_before_after(results: dict) -> str:
    """Compare the torch engine (what the node ran before) with ONNX Runtime, in one run."""
    node, old = results['node'], results['node_torch']
    stages = results['predictor_stages']
    rows = [['whole `predict()`, 640x192 (ms)', stages['whole predict()']['median_ms'],
             stages['whole predict(), onnxruntime']['median_ms'],
             'ONNX Runtime runs the exported graph (pre/post-processing inside)']]
    for mode in ('30 Hz', 'flat out'):
        rows.append([f'node output rate at {mode} input (Hz)', old[mode]['throughput_hz'],
                     node[mode]['throughput_hz'], 'the engine; idle ONNX Runtime workers '
                     'sleep instead of spinning' if mode == '30 Hz' else 'the same'])
        rows.append([f'node p50 latency camera to cloud at {mode} input (ms)',
                     old[mode]['latency_p50_ms'], node[mode]['latency_p50_ms'], 'the same'])
    rows.append(['node frame time, closed loop over DDS (ms)', old['node_frame_ms'],
                 node['node_frame_ms'], 'the same'])
    rows.append(['outputs: build + publish inside the node (ms)',
                 old['in_node_closed_loop']['outputs_ms'],
                 node['in_node_closed_loop']['outputs_ms'],
                 'ONNX Runtime workers sleep when idle; spinning they took the cores the '
                 'outputs need (17 ms, measured once, docs/deployment.md)'])
    body = [[name, f'{was:.2f}', f'{now:.2f}',
             f'{now / was:.2f}x' if 'Hz)' in name else f'{was / now:.2f}x', why]
            for name, was, now, why in rows]
    return _table(['figure', 'before: backend torch', 'now: backend onnxruntime (default)',
                   'better by', 'change'], body)


def _targets(results: dict) -> str:
    node, fusion = results['node'], results['fusion']['640x480']
    in_node = node['in_node_closed_loop']
    plumbing = (in_node['inference_ms'] + in_node['outputs_ms']) / in_node['inference_ms']
    gpu = results['machine']['gpu']
    without_dds = node['overhead_ratio_without_dds']
    forward = results['forward']
    rows = []
    for size in ('320x96', '640x480'):
        ratio = (_forward_ms(forward, size, 'fp32 NHWC', 2)
                 / _forward_ms(forward, size, 'onnxruntime fp32 CPU Provider', 2))
        rows.append([f'forward {size}: ONNX Runtime CPU >= 2.5x torch eager channels_last '
                     '(2 threads)', f'{ratio:.2f}x', 'yes' if ratio >= 2.5 else 'no'])
    rate = node['30 Hz']
    dropped = rate['dropped'] / max(rate['frames_sent'], 1)
    met = rate['throughput_hz'] >= 29 and dropped <= 0.03 and rate['latency_p50_ms'] <= 40
    rows.append(['node (onnxruntime), 640x192 at 30 Hz: >= 29 Hz out, <= 3 % dropped, p50 '
                 '<= 40 ms camera to cloud', f'{rate["throughput_hz"]:.1f} Hz, '
                 f'{100 * dropped:.1f} % dropped, p50 {rate["latency_p50_ms"]:.1f} ms',
                 'yes' if met else 'no'])
    rows.append(['node flat out (max rate; report only)',
                 f'{node["flat out"]["throughput_hz"]:.1f} Hz', '-'])
    relay = results['null_relay']['node_frame_ms']
    bound = node['bare_predictor_ms'] + relay
    rows.append(['node frame time over DDS (closed loop) <= 1.15 x (bare `predict()` + null '
                 'relay frame time)', f'{node["node_frame_ms"]:.1f} ms vs 1.15 x '
                 f'({node["bare_predictor_ms"]:.1f} + {relay:.1f}) ms = '
                 f'{node["node_frame_ms"] / bound:.2f}', 'yes' if node['node_frame_ms']
                 <= 1.15 * bound else 'no'])
    rows += [
        ['overhead ratio <= 1.15, end to end over DDS against a bare `predict()` alone '
         '(the earlier, stricter form)',
         f'{node["overhead_ratio"]:.2f} (closed loop: {node["node_frame_ms"]:.1f} ms per '
         f'frame / {node["bare_predictor_ms"]:.1f} ms bare `predict()`)',
         'yes' if node['overhead_ratio'] <= 1.15 else 'no'],
        ["the same for the node's own work (decode, infer, build and serialise the outputs "
         'in one process, no DDS)', f'{without_dds:.2f}', 'yes' if without_dds <= 1.15 else 'no'],
        ['inside the running node: (inference + outputs) / inference (from `/diagnostics`)',
         f'{plumbing:.2f}', 'yes' if plumbing <= 1.15 else 'no'],
        ['fusion + packing >= 3x faster than Open3D (CPU, 640x480)',
         f'{fusion["open3d_over_ours"]:.2f}x', 'yes' if fusion['open3d_over_ours'] >= 3 else 'no'],
    ]
    if gpu == 'none':
        rows.append(['GPU: TensorRT fp16 640x480 forward <= 2 ms; node >= 200 fps flat out; '
                     'p50 <= 5 ms at 30 Hz', 'not measured on this machine: see '
                     '[benchmarks_gpu.md](benchmarks_gpu.md) for the GPU checks (TensorRT and '
                     'the node on a GPU not measured there either)', '-'])
    else:
        fp16 = _forward_ms(results['forward'], '640x480', 'fp16 NHWC')
        rows.append([f'GPU fp16 forward 640x480 <= 2 ms ({gpu})', f'{fp16:.2f} ms',
                     'yes' if fp16 <= 2 else 'no'])
    if 'cameras' in results:
        rows += cameras_targets(results['cameras'])
    if 'int8' in results:
        rows += int8_targets(results['int8'])
    return _table(['target', 'measured', 'met'], rows)


def _node_rows(node: dict) -> list[list[object]]:
    return [[label, e['frames_sent'], e.get('publish_refused', 0), e['frames_out'], e['dropped'],
             f'{e["throughput_hz"]:.1f}', ' / '.join(
                 f'{v:.0f}' if v is not None else '-'
                 for v in e['output_latency_p50_ms'].values()),
             f'{e.get("latency_p50_ms", float("nan")):.0f}',
             f'{e.get("latency_p95_ms", float("nan")):.0f}',
             f'{e.get("latency_p99_ms", float("nan")):.0f}', f'{e["cpu_percent"]:.0f}',
             f'{e["rss_mib"]:.0f}'] for label, e in node.items()
            if isinstance(e, dict) and 'frames_sent' in e]


NODE_HEADER = ['input', 'sent', 'refused', 'out', 'dropped', 'out Hz',
               'p50 ms: segmentation / colour / depth / points', 'points p50 ms',
               'points p95 ms', 'points p99 ms', 'node CPU %', 'node RSS MiB']


def write_report(results: dict, baseline: dict, path: Path, plot_path: Path) -> None:
    """Write docs/benchmarks.md (and the stage plot) from one run's results."""
    plot_stages(results, baseline, plot_path)
    info = results['machine']
    forward = _table(['device', 'variant', 'threads', 'size', 'purpose', 'median ms', 'p95 ms'],
                     [[r['device'], r['variant'], r['threads'], r['size'], r['purpose'],
                       f'{r["median_ms"]:.1f}' if 'median_ms' in r else r.get('error'),
                       f'{r["p95_ms"]:.1f}' if 'p95_ms' in r else '-']
                      for r in results['forward']])
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
    node, node_torch, relay = results['node'], results['node_torch'], results['null_relay']
    inference_ms, outputs_ms, transport_ms = _node_breakdown(node).values()
    torch_inference_ms = _node_breakdown(node_torch)['inference in the node']
    without_dds = node['overhead_ratio_without_dds']
    quiet_ms = node_torch['node_work_without_dds']['inference_ms']
    training = results['training']
    compile_s = next((r.get('compile_s', float('nan')) for r in results['forward']
                      if r['variant'] == 'fp32 NHWC torch.compile'), float('nan'))
    gpu_note = ('No GPU was available for these figures: the CUDA variants (fp32, fp16, '
                'channels_last, `torch.compile`, CUDA graphs) and the GPU targets are **not '
                'measured** here; the same command measures them where CUDA is present, '
                'and `bench/gpu_checks.py` checks and times the CUDA paths on a GPU machine '
                'without ROS ([benchmarks_gpu.md](benchmarks_gpu.md)).'
                if info['gpu'] == 'none' else 'CUDA rows were measured on the GPU named above.')
    text = f"""# Benchmarks

Generated by `python bench/run_benchmarks.py` (results also in `bench/results.json`); do not
edit by hand. Medians and 95th percentiles over repeated runs after warm-up.

**Machine:** {info['cpu']}, {info['cores']} cores ({info['torch_threads']} torch threads), GPU:
{info['gpu']}; Python {info['python']}, torch {info['torch']}, ONNX Runtime
{info['onnxruntime']}, Open3D {info['open3d']}; {info['date']}. {gpu_note}

## Targets

{_targets(results)}

The node runs ONNX Runtime by default (`backend: auto`). Its own work per frame (decode,
infer, build and serialise the outputs, in one process) costs {100 * (without_dds - 1):.0f} %
more than a bare `predict()`. End to end over DDS a frame costs more than the network: the
null relay, the same node and outputs with the network replaced by a constant prediction,
needs {relay['node_frame_ms']:.1f} ms per closed-loop frame on its own: DDS moving the input
and four outputs (about 1.6 MB per 640x192 frame) between processes and the benchmark client,
all on two cores. That is why the end-to-end target is stated against bare `predict()` plus
the null relay. With the torch engine a two-thread OpenMP forward pass also slows down as soon
as anything else runs (inference takes {torch_inference_ms:.1f} ms inside the running node
against {quiet_ms:.1f} ms for the same call in a quiet process). Settings
that were tried and did not help here: Fast DDS transports `SHM`, `LARGE_DATA`, `UDPv4`
(`FASTDDS_BUILTIN_TRANSPORTS`), longer OpenMP spinning (`GOMP_SPINCOUNT`, 2-3 ms better at the
cost of busy CPUs), thread pinning (`OMP_PROC_BIND`, twice as slow); a client that does not
deserialise what it receives (this benchmark's `raw=True`) changed nothing measurable.

## Before and after: the ONNX Runtime engine

Side by side in this run: the node and `predict()` with `backend: torch` (eager PyTorch,
channels_last: what the node ran before the engine existed) and with `backend: onnxruntime`
(the default now, where ONNX Runtime is installed).

{_engine_before_after(results)}

## Before and after: the optimisations of the torch path

"Before" is `bench/baseline.json`: this benchmark's results at commit `{baseline['commit']}`,
before the optimisations listed here, measured on {baseline['machine']['cpu']} (2 cores);
"now" is this run on {info['cpu']} ({info['cores']} cores) with `backend: torch`.{
    '' if baseline['machine']['cpu'] == info['cpu'] else
    ' The processors differ, so these ratios mix the changes with the machine; the engine '
    'comparison above is from one run on one machine.'}

{_before_after(results, baseline)}

![stages](images/benchmark_stages.png)

## Network forward pass

{forward}

## Predictor stages (default weights, one 640x192 frame)

{stages}

## Point-cloud fusion and packing (same frames, same run)

Ours: the node's `OutputBuilder.points` at stride 1 (`SemanticCloudAssembler` fills x, y, z,
packed colour (`cv2.LUT`) and label as contiguous planes and interleaves them with one copy
straight into the reused memory of the PointCloud2 it returns). Open3D:
`create_from_rgbd_image` on the same depth and colour, without building a message. Plain
numpy: index grids and a zero-initialised structured array per frame, then `tobytes`.

{_table(['frame', 'method', 'median ms', 'p95 ms'], fusion_rows)}

## perception_node end to end over DDS (default weights, 640x192 frames, backend onnxruntime)

A publisher in the benchmark process sends frames (stamp = send time) to the node, a separate
process, and subscribes to all four outputs (received serialised, only the stamp is read);
latency is send to receipt of each output, `~/points` being the last of a frame. Closed loop
sends the next frame when the previous cloud arrived: the node's own time per frame,
{node['node_frame_ms']:.1f} ms, against {node['bare_predictor_ms']:.1f} ms for a bare
`predict()` (timed just before, interleaved with the node's work without DDS): overhead ratio
**{node['overhead_ratio']:.2f}** (target <= 1.15). Where the closed-loop frame goes
(medians from the node's `/diagnostics`): inference in the node {inference_ms:.1f} ms,
building and publishing the outputs {outputs_ms:.1f} ms, DDS transport both ways and the
client {transport_ms:.1f} ms. At fixed rates the node drops what it cannot take
(newest frame wins); flat out, the publisher itself takes a core from the node, and publishes
that the middleware refused while its reliable history was full (backpressure) are counted as
"refused", not as sent.

{_table(NODE_HEADER, _node_rows(node))}

With `backend: torch` (eager PyTorch, channels_last): closed loop
{node_torch['node_frame_ms']:.1f} ms per frame against {node_torch['bare_predictor_ms']:.1f} ms
for its bare `predict()`.

{_table(NODE_HEADER, _node_rows(node_torch))}

The null relay (`bench/null_relay.py`): the node with the network replaced by a constant
prediction, the same four outputs ({relay['node_frame_ms']:.1f} ms per closed-loop frame).

{_table(NODE_HEADER, _node_rows(relay))}

## Training throughput (default synthetic configuration, CPU, steps only)

Batch {training['batch_size']} at {training['input_size']}, data already loaded:
{training['NHWC']['images_per_second']:.1f} images/s with channels_last (the default),
{training['NCHW']['images_per_second']:.1f} images/s in NCHW.

## torch.compile

On the CPU, `torch.compile` is measured at the default input size (row `fp32 NHWC
torch.compile` above; compiling took {compile_s:.0f} s in this run, less than the minute of a
first compilation when inductor's on-disk cache holds an earlier one; it needs a C++ compiler
at run time).
It is offered, off by default, as the Predictor's `compile_model` and the node's
`compile_model` parameter (the node compiles during its warm-up, before subscribing). CUDA
graphs are benchmarked on CUDA only.
"""
    if 'cameras' in results:
        plot_cameras(results['cameras'], plot_path.parent / 'cameras_rates.png')
        text += cameras_section(results['cameras'])
    if 'int8' in results:
        text += int8_section(results['int8'])
    path.write_text(text)
