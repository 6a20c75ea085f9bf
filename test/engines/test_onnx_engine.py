# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Export to ONNX and the ONNX Runtime engine, against the torch Predictor on real frames."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
import subprocess
import sys

from mtl_perception.checkpoint import load_checkpoint, save_checkpoint
from mtl_perception.default_model import default_model_path
from mtl_perception.engines.cache import cache_dir
from mtl_perception.engines.loading import load_engine, resolve_backend
from mtl_perception.engines.onnx_export import depth_kinds, EXPORT_KEY, export_onnx, METADATA_KEY
from mtl_perception.engines.onnxruntime_engine import (OnnxRuntimeEngine, providers_for,
                                                       tensorrt_libraries_found,
                                                       usable_providers)
from mtl_perception.errors import CheckpointError, EngineError, InputImageError, ModelConfigError
from mtl_perception.inference import Predictor
from mtl_perception.synthetic import render_frame
import numpy as np
import onnx
import pytest
import torch

DEFAULT = default_model_path()


def _street(width: int, height: int, seed: int = 1_000_123) -> np.ndarray:
    return render_frame(seed, width=width, height=height).rgb


def _assert_agrees(ours, expected) -> None:
    assert (ours.labels == expected.labels).mean() >= 0.999
    both = np.isfinite(ours.depth) & np.isfinite(expected.depth)
    assert (depth_kinds(ours.depth) == depth_kinds(expected.depth)).mean() >= 0.999
    np.testing.assert_allclose(ours.depth[both], expected.depth[both], rtol=1e-3)


@pytest.fixture(scope='module')
def dynamic_graph(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp('onnx') / 'default_dynamic.onnx'
    export_onnx(DEFAULT, path, dynamic_size=True)
    return path


@pytest.mark.parametrize('input_size', [None, (192, 640)])
def test_a_fixed_size_export_equals_the_torch_predictor_on_a_street_frame(
        tmp_path, input_size):
    path = tmp_path / 'model.onnx'
    record = export_onnx(DEFAULT, path, input_size=input_size)
    height, width = record['input_size']
    frame = _street(width, height)
    engine = OnnxRuntimeEngine(path, device='cpu')
    reference = Predictor.from_checkpoint(DEFAULT, device='cpu', input_size=input_size)
    _assert_agrees(engine.predict(frame), reference.predict(frame))
    with pytest.raises(InputImageError, match=rf'takes {width}x{height} frames only'):
        engine.predict(_street(width + 32, height))


@pytest.mark.parametrize(('width', 'height'), [(320, 96), (640, 192), (333, 201)])
def test_a_dynamic_size_export_equals_the_torch_predictor_at_any_frame_size(
        dynamic_graph, width, height):
    frame = _street(width, height)
    engine = OnnxRuntimeEngine(dynamic_graph, device='cpu')
    reference = Predictor.from_checkpoint(DEFAULT, device='cpu')
    _assert_agrees(engine.predict(frame), reference.predict(frame))
    _assert_agrees(engine.predict(frame[..., ::-1].copy(), bgr=True), reference.predict(frame))


def test_the_graph_runs_a_batch_of_frames_as_each_frame_alone(
        dynamic_graph, normals_checkpoint_path, tmp_path):
    """The batch axis GPU providers run several cameras' frames on (format 3)."""
    import onnxruntime

    three = tmp_path / 'three.onnx'
    export_onnx(normals_checkpoint_path, three, dynamic_size=True)
    for path, size in ((dynamic_graph, (96, 320)), (three, (48, 64))):
        session = onnxruntime.InferenceSession(str(path), providers=['CPUExecutionProvider'])
        assert session.get_inputs()[0].shape == ['batch', 'height', 'width', 3]
        frames = np.stack([_street(size[1], size[0], seed) for seed in (1, 2, 3)])
        together = session.run(None, {'image': frames})
        for index, frame in enumerate(frames):
            alone = session.run(None, {'image': frame[None]})
            assert (together[0][index] == alone[0][0]).mean() >= 0.999
            for output in range(1, len(alone)):  # depth, and normals where the model has them
                np.testing.assert_allclose(together[output][index], alone[output][0],
                                           rtol=1e-4, atol=1e-5, equal_nan=True)


def test_on_the_cpu_a_batch_runs_concurrently_and_equals_each_frame_alone(dynamic_graph):
    engine = OnnxRuntimeEngine(dynamic_graph, device='cpu')
    frames = [_street(320, 96, seed) for seed in (4, 5, 6)]
    together = engine.infer_batch(frames)
    assert engine._runners is not None  # the concurrent path ran
    for frame, batched in zip(frames, together):
        np.testing.assert_array_equal(batched.labels.numpy(), engine.predict(frame).labels)


def test_the_graph_carries_the_checkpoint_metadata(dynamic_graph):
    model = onnx.load(str(dynamic_graph))
    props = {entry.key: entry.value for entry in model.metadata_props}
    metadata = load_checkpoint(DEFAULT).metadata
    stored = json.loads(props[METADATA_KEY])
    assert stored['class_names'] == list(metadata.class_names)
    assert [tuple(c) for c in stored['palette']] == list(metadata.palette)
    assert tuple(stored['depth_range']) == metadata.depth_range
    record = json.loads(props[EXPORT_KEY])
    assert record['dynamic_size'] and record['outputs'] == ['labels', 'depth']
    assert [i.name for i in model.graph.input] == ['image']
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.UINT8
    engine = OnnxRuntimeEngine(dynamic_graph, device='cpu')
    assert engine.metadata.class_names == metadata.class_names
    assert engine.metadata.created_by == metadata.created_by
    assert engine.input_size == metadata.input_size


def test_a_three_task_export_returns_normals(tmp_path, normals_checkpoint_path, street_image):
    path = tmp_path / 'three.onnx'
    record = export_onnx(normals_checkpoint_path, path, dynamic_size=True)
    assert record['outputs'] == ['labels', 'depth', 'normals']
    engine = OnnxRuntimeEngine(path, device='cpu')
    ours = engine.predict(street_image)
    expected = Predictor.from_checkpoint(normals_checkpoint_path, device='cpu').predict(
        street_image)
    np.testing.assert_allclose(ours.normals, expected.normals, atol=1e-3, equal_nan=True)
    depth = ours.depth[np.isfinite(ours.depth)]
    engine.set_depth_range(0.1, float(np.median(depth)))  # a narrower range hides some
    narrowed = engine.predict(street_image)
    assert np.isposinf(narrowed.depth).sum() > np.isposinf(ours.depth).sum()
    np.testing.assert_array_equal(np.isnan(narrowed.normals).all(axis=2),
                                  ~np.isfinite(narrowed.depth))


def test_a_narrower_depth_range_is_applied_and_a_wider_one_refused(dynamic_graph):
    engine = OnnxRuntimeEngine(dynamic_graph, device='cpu')
    wide = engine.predict(_street(320, 96)).depth
    engine.set_depth_range(5.0, 20.0)
    depth = engine.predict(_street(320, 96)).depth
    finite = depth[np.isfinite(depth)]
    assert finite.size and finite.min() >= 5.0 and finite.max() <= 20.0
    with np.errstate(invalid='ignore'):
        assert (np.isneginf(depth) == (wide < 5.0)).all()  # REP 117: too near
        assert (np.isposinf(depth) == (wide > 20.0)).all()  # too far
    np.testing.assert_array_equal(np.isnan(depth), np.isnan(wide))  # sky stays NaN
    with pytest.raises(ModelConfigError, match=r"within the exported graph's \(0.5, 80.0\)"):
        engine.set_depth_range(0.1, 200.0)


def test_an_export_that_disagrees_with_the_predictor_is_refused_and_not_written(
        tmp_path, small_model):
    from conftest import make_metadata
    overflowing = type(small_model)(small_model.encoder, num_classes=8)
    overflowing.load_state_dict(small_model.state_dict())
    with torch.no_grad():  # logits beyond float16's 65504: the fp16 graph cannot agree
        overflowing.segmentation_head.out.weight.mul_(1e7)
    checkpoint = save_checkpoint(tmp_path / 'big.pt', overflowing, make_metadata())
    with pytest.raises(EngineError, match='disagrees with the torch Predictor.*nothing was '
                                          'written'):
        export_onnx(checkpoint, tmp_path / 'big.onnx', half=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['big.pt']


def test_a_damaged_graph_is_refused_with_one_clear_error(tmp_path, dynamic_graph):
    data = dynamic_graph.read_bytes()
    (tmp_path / 'cut.onnx').write_bytes(data[:len(data) // 3])
    with pytest.raises(EngineError, match='cut.onnx: not a loadable ONNX graph'):
        OnnxRuntimeEngine(tmp_path / 'cut.onnx', device='cpu')
    with pytest.raises(EngineError, match='missing.onnx: no such file'):
        OnnxRuntimeEngine(tmp_path / 'missing.onnx', device='cpu')


def test_a_foreign_graph_is_refused(tmp_path):
    node = onnx.helper.make_node('Identity', ['image'], ['labels'])
    graph = onnx.helper.make_graph(
        [node], 'foreign',
        [onnx.helper.make_tensor_value_info('image', onnx.TensorProto.UINT8, [4, 4, 3])],
        [onnx.helper.make_tensor_value_info('labels', onnx.TensorProto.UINT8, [4, 4, 3])])
    onnx.save(onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid('', 18)]),
              tmp_path / 'foreign.onnx')
    with pytest.raises(EngineError, match='foreign.onnx: not an mtl_perception graph'):
        OnnxRuntimeEngine(tmp_path / 'foreign.onnx', device='cpu')


def test_a_checkpoint_run_with_onnxruntime_is_exported_once_and_cached(checkpoint_path,
                                                                       street_image):
    first = load_engine(checkpoint_path, backend='onnxruntime', device='cpu')
    cached = sorted((cache_dir() / 'onnx').glob('*.onnx'))
    stamps = {path: path.stat().st_mtime_ns for path in cached}
    second = load_engine(checkpoint_path, backend='onnxruntime', device='cpu')
    assert first.path == second.path and first.path in stamps
    assert {path: path.stat().st_mtime_ns for path in cached} == stamps
    _assert_agrees(second.predict(street_image),
                   Predictor.from_checkpoint(checkpoint_path, device='cpu').predict(street_image))


def test_a_damaged_cache_entry_is_exported_again(tmp_path, checkpoint_path, street_image,
                                                 caplog):
    graph = load_engine(checkpoint_path, backend='onnxruntime', device='cpu').path
    graph.write_bytes(b'damaged')
    engine = load_engine(checkpoint_path, backend='onnxruntime', device='cpu')
    assert 'is unusable' in caplog.text and 'exporting it again' in caplog.text
    assert graph.stat().st_size > 1_000_000
    assert engine.predict(street_image).labels.shape == (50, 70)


def _flip_weight_bits(path: Path, count: int = 12) -> None:
    """Flip ``count`` bits inside the largest weight tensor of a graph (it still decodes)."""
    data = bytearray(path.read_bytes())
    weights = max(onnx.load_from_string(bytes(data)).graph.initializer,
                  key=lambda tensor: len(tensor.raw_data)).raw_data
    start = bytes(data).find(weights[:256])
    assert start > 0 and len(weights) > 4 * count
    for index in range(count):
        data[start + (index * 7919) % len(weights)] ^= 1 << (index % 8)
    path.write_bytes(bytes(data))
    onnx.load_from_string(bytes(data))  # still a well-formed graph: only the numbers changed


def test_a_graph_whose_weights_changed_after_export_is_refused(tmp_path, dynamic_graph):
    damaged = tmp_path / 'flipped.onnx'
    damaged.write_bytes(dynamic_graph.read_bytes())
    _flip_weight_bits(damaged)
    with pytest.raises(EngineError, match=r'flipped.onnx: damaged graph: its content no longer '
                                          r'matches the hash recorded at export'):
        OnnxRuntimeEngine(damaged, device='cpu')
    with pytest.raises(EngineError, match='damaged graph'):
        load_engine(damaged, backend='onnxruntime', device='cpu')


def test_a_bit_flipped_cache_entry_is_exported_again_and_gives_right_output(
        checkpoint_path, street_image, caplog):
    graph = load_engine(checkpoint_path, backend='onnxruntime', device='cpu').path
    _flip_weight_bits(graph)
    engine = load_engine(checkpoint_path, backend='onnxruntime', device='cpu')
    assert 'damaged graph' in caplog.text and 'exporting it again' in caplog.text
    _assert_agrees(engine.predict(street_image),
                   Predictor.from_checkpoint(checkpoint_path, device='cpu').predict(street_image))


def test_the_export_records_the_graphs_content_hash(dynamic_graph):
    model = onnx.load(dynamic_graph)
    record = json.loads({e.key: e.value for e in model.metadata_props}[EXPORT_KEY])
    assert record['format'] == 3
    assert record['graph_sha256'] == hashlib.sha256(model.graph.SerializeToString()).hexdigest()


def test_backend_choices_are_checked():
    assert resolve_backend('auto') == 'onnxruntime'  # installed with the runtime extras
    with pytest.raises(ModelConfigError, match="unknown backend 'tensorflow'"):
        resolve_backend('tensorflow')


def test_inconsistent_backend_options_are_explained(dynamic_graph, checkpoint_path):
    with pytest.raises(ModelConfigError, match='exported ONNX graph: use backend onnxruntime'):
        load_engine(dynamic_graph, backend='torch')
    with pytest.raises(ModelConfigError, match='compile_model applies to backend torch'):
        load_engine(checkpoint_path, backend='onnxruntime', compile_model=True)
    with pytest.raises(ModelConfigError, match='input size fixed'):
        load_engine(dynamic_graph, backend='onnxruntime', input_size=(64, 64))


def test_load_engine_with_auto_runs_an_onnx_graph_on_onnx_runtime(dynamic_graph):
    engine = load_engine(dynamic_graph, device='cpu', backend='auto')
    assert isinstance(engine, OnnxRuntimeEngine)
    assert engine.backend == 'onnxruntime' and engine.provider == 'CPUExecutionProvider'


def test_predictor_from_checkpoint_is_the_torch_engine_only(checkpoint_path, dynamic_graph):
    assert type(Predictor.from_checkpoint(checkpoint_path, device='cpu')) is Predictor
    with pytest.raises(CheckpointError, match='default_dynamic.onnx'):
        Predictor.from_checkpoint(dynamic_graph, device='cpu')


def test_cuda_providers_are_asked_for_best_first_and_missing_ones_explained(tmp_path):
    gpu = ['TensorrtExecutionProvider', 'CUDAExecutionProvider', 'CPUExecutionProvider']
    chosen = providers_for('cuda:1', None, gpu, tmp_path)
    assert [p[0] if isinstance(p, tuple) else p for p in chosen] == gpu
    assert chosen[0][1]['trt_fp16_enable'] and chosen[0][1]['device_id'] == 1
    assert providers_for('auto', None, ['CPUExecutionProvider'], tmp_path) == [
        'CPUExecutionProvider']
    with pytest.raises(ModelConfigError, match='install onnxruntime-gpu'):
        providers_for('cuda', None, ['CPUExecutionProvider'], tmp_path)


@pytest.mark.skipif(tensorrt_libraries_found(), reason='TensorRT is installed here')
def test_tensorrt_is_not_asked_for_without_its_libraries():
    gpu = ['TensorrtExecutionProvider', 'CUDAExecutionProvider', 'CPUExecutionProvider']
    assert usable_providers(gpu) == gpu[1:]
    assert usable_providers(['CPUExecutionProvider']) == ['CPUExecutionProvider']


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-m', 'mtl_perception', 'mtl_export_onnx', *args],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, 'PYTHONWARNINGS': 'ignore'})


def test_the_export_command_writes_a_graph_and_says_what_it_holds(tmp_path, checkpoint_path):
    result = _cli(str(checkpoint_path), '--output', str(tmp_path / 'm.onnx'), '--dynamic-size')
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == (
        f'wrote {tmp_path / "m.onnx"}: outputs labels, depth, network input 96x64, any frame '
        'size (1 to 64 of them per run); matches the torch Predictor')
    assert result.stdout == ''


@pytest.mark.parametrize(('args', 'code', 'message'), [
    (['--input-size', '8x8'], 2, 'sides must be 32..8192'),
    (['--input-size', 'wide'], 2, 'is not HEIGHTxWIDTH'),
])
def test_the_export_command_refuses_bad_arguments(
        tmp_path, checkpoint_path, args, code, message):
    result = _cli(str(checkpoint_path), '--output', str(tmp_path / 'm.onnx'), *args)
    assert result.returncode == code and message in result.stderr


def test_the_export_command_names_a_missing_checkpoint_in_one_line(tmp_path):
    result = _cli(str(tmp_path / 'none.pt'), '--output', str(tmp_path / 'm.onnx'))
    assert result.returncode == 1
    assert result.stderr == f'mtl_export_onnx: error: {tmp_path / "none.pt"}: checkpoint ' \
                            'file not found\n'
    assert not (tmp_path / 'm.onnx').exists()
