# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The INT8 engine: the default weights quantised, checked against FP32, loaded with care.

The INT8 graph comes from the export cache (``int8_model``: default weights, calibrated on
rendered frames of their training seeds, any frame size). It is compared here with the FP32
torch Predictor on rendered frames that neither training nor calibration saw, at the trained
size and at a second frame size through the graph's dynamic size.
"""

from __future__ import annotations

import json
import os
import shutil

from mtl_perception.default_model import default_model_path
from mtl_perception.engines.cache import cached_int8
from mtl_perception.engines.int8_export import agreement, DEPTH_BOUND, LABELS_BOUND
from mtl_perception.engines.loading import load_engine
from mtl_perception.engines.openvino_engine import OpenVinoEngine
from mtl_perception.errors import (
    EngineError, ExportCacheError, InputImageError, ModelConfigError
)
from mtl_perception.synthetic import render_frame
import numpy as np
import pytest

FRESH_SEED = 1_000_500  # held out from training, and past the export's held-out frames


def _delta1(depth: np.ndarray, truth: np.ndarray) -> float:
    valid = np.isfinite(depth) & np.isfinite(truth) & (truth > 0.5) & (truth < 80) & (depth > 0)
    ratio = np.maximum(depth[valid] / truth[valid], truth[valid] / depth[valid])
    return float((ratio < 1.25).mean())


@pytest.fixture(scope='module')
def fp32():
    return load_engine(default_model_path(), backend='torch', device='cpu')


@pytest.mark.parametrize('size, bound', [((192, 640), LABELS_BOUND), ((288, 960), 0.98)],
                         ids=['trained 640x192', 'dynamic 960x288'])
def test_int8_agrees_with_fp32_on_frames_it_never_saw(int8_model, fp32, size, bound):
    """Agree within the export's bound at the trained size.

    Frames of another size, resized inside the graph, agree less (98.4 % over 16 frames at
    960x288, docs/benchmarks_int8.md).
    """
    int8 = load_engine(int8_model)
    frames = [render_frame(FRESH_SEED + index, height=size[0], width=size[1])
              for index in range(8)]
    quantized = [int8.predict(frame.rgb) for frame in frames]
    reference = [fp32.predict(frame.rgb) for frame in frames]
    labels = np.mean([(q.labels == r.labels).mean() for q, r in zip(quantized, reference)])
    assert labels >= bound
    delta1_int8 = np.mean([_delta1(q.depth, f.depth) for q, f in zip(quantized, frames)])
    delta1_fp32 = np.mean([_delta1(r.depth, f.depth) for r, f in zip(reference, frames)])
    assert abs(delta1_int8 - delta1_fp32) <= 0.01
    assert 0.5 < delta1_fp32  # the frames are of the weights' domain


def test_the_graph_records_how_it_was_quantised_and_what_it_measured(int8_model):
    engine = load_engine(int8_model)
    assert engine.backend == 'openvino' and engine.provider == 'OpenVINO CPU int8'
    assert engine.record['precision'] == 'int8' and engine.record['dynamic_size'] is True
    held_out = engine.record['quantization']['held_out']
    assert held_out['labels_agree'] >= LABELS_BOUND and held_out['depth_agree'] >= DEPTH_BOUND
    assert 'overflow fix' in engine.record['quantization']['method']
    assert 'training seeds 0..2999' in engine.record['quantization']['calibration']
    assert engine.input_size == (192, 640) and engine.class_names[0] == 'road'


def test_the_agreement_counts_equal_invalid_depth_as_agreeing():
    labels = np.zeros((1, 4), np.uint8)
    reference = np.array([[1.0, np.inf, np.nan, 2.0]], np.float32)
    candidate = np.array([[1.1, np.inf, np.nan, 3.0]], np.float32)  # last: 50 % off
    figures = agreement([(labels, reference)], [(labels, candidate)])
    assert figures == {'labels_agree': 1.0, 'depth_agree': 0.75}
    swapped = np.array([[1.0, -np.inf, 1.0, 2.0]], np.float32)  # too near vs far, NaN vs 1
    assert agreement([(labels, reference)], [(labels, swapped)])['depth_agree'] == 0.5


def test_the_cache_reuses_its_entry_and_exports_a_damaged_one_again(int8_model, tmp_path):
    assert cached_int8(default_model_path(), None) == int8_model
    copy = tmp_path / 'cache'
    shutil.copytree(int8_model.parent, copy / 'onnx')
    os.environ['MTL_PERCEPTION_CACHE'], previous = str(copy), os.environ['MTL_PERCEPTION_CACHE']
    try:
        entry = copy / 'onnx' / int8_model.name
        stamp = entry.stat().st_mtime_ns
        assert load_engine(default_model_path(), precision='int8').path == entry
        assert entry.stat().st_mtime_ns == stamp  # reused, not exported again
        weights = bytearray(entry.with_suffix('.bin').read_bytes())
        weights[len(weights) // 2] ^= 0xFF
        entry.with_suffix('.bin').write_bytes(bytes(weights))
        engine = load_engine(default_model_path(), precision='int8')  # refused, re-exported
        assert engine.path == entry and entry.stat().st_mtime_ns != stamp
    finally:
        os.environ['MTL_PERCEPTION_CACHE'] = previous


def test_an_unwritable_cache_is_an_error_not_a_silent_float_fallback(tmp_path):
    blocker = tmp_path / 'not_a_folder'
    blocker.write_text('a file where the cache folder should be')
    os.environ['MTL_PERCEPTION_CACHE'], previous = str(blocker), os.environ['MTL_PERCEPTION_CACHE']
    try:
        with pytest.raises(ExportCacheError, match='not writable') as refused:
            load_engine(default_model_path(), precision='int8')
        assert 'torch' not in str(refused.value)  # torch runs no INT8: no such advice
    finally:
        os.environ['MTL_PERCEPTION_CACHE'] = previous


def test_damaged_or_missing_weights_are_refused(int8_model, tmp_path):
    xml = tmp_path / 'model.xml'
    shutil.copy(int8_model, xml)
    with pytest.raises(EngineError, match='model.bin are missing beside it'):
        OpenVinoEngine(xml)
    weights = bytearray(int8_model.with_suffix('.bin').read_bytes())
    weights[100] ^= 0x01
    xml.with_suffix('.bin').write_bytes(bytes(weights))
    with pytest.raises(EngineError, match='damaged model: model.bin no longer matches'):
        OpenVinoEngine(xml)
    xml.write_text('<net>not closed')
    with pytest.raises(EngineError, match='not a loadable OpenVINO IR') as unloadable:
        OpenVinoEngine(xml)
    reason = str(unloadable.value).split('(damaged, or not IR): ', 1)[1]
    assert reason.strip(), 'the reason must not be blank'


def test_a_foreign_ir_is_refused(int8_model, tmp_path):
    import openvino

    model = openvino.Core().read_model(str(int8_model))
    foreign = tmp_path / 'foreign.xml'  # the same network, without this package's records
    openvino.save_model(openvino.Model(model.outputs, model.get_parameters(), 'plain'),
                        str(foreign), compress_to_fp16=False)
    with pytest.raises(EngineError, match='not an mtl_perception graph'):
        OpenVinoEngine(foreign)


def test_backend_auto_runs_an_xml_with_openvino_and_the_options_are_checked(int8_model):
    assert load_engine(int8_model).backend == 'openvino'
    refusals = [
        ({'backend': 'torch', 'precision': 'int8'}, 'precision int8 runs on backend openvino'),
        ({'precision': 'fp32'}, 'is an INT8 model; precision fp32 needs the .pt'),
        ({'device': 'cuda'}, "backend openvino \\(INT8\\) runs on the CPU; device 'cuda'"),
        ({'half': True}, 'float16 is for CUDA devices'),
        ({'input_size': (96, 320)}, 'input size fixed'),
        ({'precision': 'int4'}, "unknown precision 'int4'"),
    ]
    for options, message in refusals:
        with pytest.raises(ModelConfigError, match=message):
            load_engine(int8_model, **options)


def test_an_onnx_graph_or_a_checkpoint_of_another_domain_is_refused(
        checkpoint_path, tmp_path):
    with pytest.raises(ModelConfigError, match='was not trained on rendered streets.*'
                                               '--calibration SRC'):
        load_engine(checkpoint_path, precision='int8')
    graph = tmp_path / 'model.onnx'
    graph.write_bytes(b'an FP32 graph')
    with pytest.raises(ModelConfigError, match='run an .onnx graph with backend onnxruntime'):
        load_engine(graph, backend='openvino')


def test_a_batch_runs_in_one_pass_and_a_frame_of_the_wrong_kind_is_refused(int8_model):
    engine = load_engine(int8_model)
    frames = [render_frame(FRESH_SEED + index, height=96, width=320).rgb for index in range(3)]
    together = engine.infer_batch(frames)
    for frame, batched in zip(frames, together):
        single = engine.infer(frame)
        assert (single.labels == batched.labels).float().mean() > 0.999
    with pytest.raises(InputImageError, match='expected a uint8 image'):
        engine.infer(frames[0].astype(np.float32))
    assert json.loads(json.dumps(engine.record))['format'] == 3
