# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Every engine keeps one contract: same interface, same depth-range rule, same outputs."""

from __future__ import annotations

import importlib

from mtl_perception.engines import backend_choices, backend_names
from mtl_perception.engines.contract import (
    depth_range_with, describe, Engine, mark_out_of_range, mask_normals
)
from mtl_perception.engines.loading import load_engine, resolve_backend
from mtl_perception.errors import InputImageError, ModelConfigError
import numpy as np
import pytest
import torch


@pytest.fixture(scope='module')
def engines(checkpoint_path, int8_model):
    """Open every backend; the INT8 one on the default weights.

    The small test model is random, so its INT8 form would not agree with its FP32 one
    within the export's bound.
    """
    return {name: load_engine(int8_model if name == 'openvino' else checkpoint_path,
                              backend=name, device='cpu')
            for name in backend_names()}


def test_the_backends_are_found_by_their_module_names():
    assert backend_names() == ('onnxruntime', 'openvino', 'torch')
    assert backend_choices() == ('auto', 'onnxruntime', 'openvino', 'torch')


@pytest.mark.parametrize('name', backend_names())
def test_every_backend_module_declares_the_loader_contract(name):
    module = importlib.import_module(f'mtl_perception.engines.{name}_engine')
    assert module.BACKEND == name
    assert isinstance(module.AUTO_PREFERENCE, int)
    assert '.pt' in module.MODEL_SUFFIXES
    assert module.available() is True
    assert callable(module.open_engine)


def test_auto_prefers_the_available_backend_with_the_highest_preference():
    assert resolve_backend('auto') == 'onnxruntime'
    with pytest.raises(ModelConfigError, match=r"unknown backend 'tensorflow'; use one of"):
        resolve_backend('tensorflow')


def test_every_engine_satisfies_the_protocol_and_says_what_runs_it(engines):
    for name, engine in engines.items():
        assert isinstance(engine, Engine)
        assert engine.backend == name
        assert describe(engine).startswith(f'{name} (')
        assert engine.class_names == engine.metadata.class_names
        assert engine.palette.shape == (len(engine.class_names), 3)


def test_the_engines_agree_on_a_frame_after_the_same_depth_range_change(engines,
                                                                        street_image):
    for engine in engines.values():
        engine.set_depth_range(1.0, 5.0)
    try:
        torch_result = engines['torch'].predict(street_image)
        onnx_result = engines['onnxruntime'].predict(street_image)
    finally:
        for engine in engines.values():
            engine.set_depth_range(*engine.metadata.depth_range)
    assert (torch_result.labels == onnx_result.labels).mean() > 0.999
    for marker in (np.isposinf, np.isneginf, np.isnan):
        np.testing.assert_array_equal(marker(torch_result.depth), marker(onnx_result.depth))
    finite = np.isfinite(torch_result.depth)
    assert finite.any() and not finite.all()  # the narrowed range marks some pixels
    np.testing.assert_allclose(onnx_result.depth[finite], torch_result.depth[finite],
                               rtol=1e-3)


def test_the_depth_range_rule_marks_far_near_and_keeps_nan():
    depth = torch.tensor([0.5, 2.0, 9.0, float('nan')])
    marked = mark_out_of_range(depth, 1.0, 5.0)
    assert marked[0] == -np.inf and marked[1] == 2.0 and marked[2] == np.inf
    assert torch.isnan(marked[3])
    host = np.array([0.5, 2.0, 9.0], dtype=np.float32)  # host arrays through from_numpy
    np.testing.assert_array_equal(mark_out_of_range(torch.from_numpy(host), 1.0, 5.0).numpy(),
                                  [-np.inf, 2.0, np.inf])


def test_normals_are_nan_where_depth_is_not_finite():
    depth = torch.tensor([[1.0, float('inf')], [float('nan'), -float('inf')]])
    normals = mask_normals(torch.ones(2, 2, 3), depth)
    assert torch.equal(torch.isnan(normals).all(-1),
                       torch.tensor([[False, True], [True, True]]))


def test_depth_range_parameters_override_the_models_where_set():
    assert depth_range_with((0.1, 80.0)) == (0.1, 80.0)
    assert depth_range_with((0.1, 80.0), 0.0, 40.0) == (0.1, 40.0)
    with pytest.raises(ModelConfigError, match=r'depth range \(100.0, 80.0\): need min < max'):
        depth_range_with((0.1, 80.0), 100.0)


def test_an_empty_or_reversed_depth_range_is_refused_by_every_engine(engines):
    for engine in engines.values():
        with pytest.raises(ModelConfigError, match='0 <= min < max|must lie within'):
            engine.set_depth_range(5.0, 1.0)


def _frames(count: int, size: tuple[int, int], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (*size, 3), dtype=np.uint8) for _ in range(count)]


@pytest.mark.parametrize('low_high', [None, (1.0, 5.0)], ids=['model range', 'narrowed'])
def test_a_batch_gives_each_frame_what_it_gives_alone(engines, low_high):
    frames = _frames(3, (48, 80), seed=7)
    for name, engine in engines.items():
        if low_high:
            engine.set_depth_range(*low_high)
        try:
            alone = [engine.infer(frame) for frame in frames]
            together = engine.infer_batch(frames)
        finally:
            engine.set_depth_range(*engine.metadata.depth_range)
        assert len(together) == 3
        for single, batched in zip(alone, together):
            assert batched.labels.shape == (48, 80) and batched.depth.shape == (48, 80)
            assert (single.labels == batched.labels).float().mean() > 0.999, name
            np.testing.assert_allclose(batched.depth.numpy(), single.depth.numpy(),
                                       rtol=1e-4, atol=1e-5, err_msg=name)


def test_the_batched_post_processing_equals_the_per_frame_one(engines):
    predictor = engines['torch']  # the CUDA path of Predictor.infer_batch, run on the CPU
    frames = _frames(2, (40, 72), seed=8)
    with torch.inference_mode():
        outputs = predictor.network(predictor.preprocess(predictor.upload_batch(frames)))
        together = predictor.postprocess_batch(outputs, (40, 72)).frames()
    for frame, batched in zip(frames, together):
        single = predictor.infer(frame)
        assert (single.labels == batched.labels).float().mean() > 0.999
        np.testing.assert_allclose(batched.depth.numpy(), single.depth.numpy(), rtol=1e-4,
                                   atol=1e-5)


@pytest.mark.parametrize('frames, message', [
    ([], 'at least one frame, got none'),
    (_frames(1, (48, 80), 1) + _frames(1, (40, 80), 2), 'one size, got 80x40, 80x48'),
    ([np.zeros((48, 80, 3), np.float32)], 'expected a uint8 image'),
], ids=['none', 'two sizes', 'float'])
def test_a_batch_that_cannot_run_in_one_pass_is_refused(engines, frames, message):
    for engine in engines.values():
        with pytest.raises(InputImageError, match=message):
            engine.infer_batch(frames)
