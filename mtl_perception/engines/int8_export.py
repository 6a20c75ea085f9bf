# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""INT8 export: the deployment graph quantised by NNCF for OpenVINO's CPU plugin.

Chosen by measurement (docs/benchmarks_int8.md): ONNX Runtime's quantiser was never faster
than FP32 on this graph; NNCF's post-training quantisation run by OpenVINO is (mixed preset:
symmetric per-channel weights, asymmetric activations, min-max ranges). Its overflow fix
(weights at 7 bits, so that 8-bit multiply-adds cannot saturate) lifted the labels that agree
with FP32 from 98.2 % to 99.2 %; keeping the first convolution and the heads (``FLOAT_SCOPES``)
in float brought depth delta1 within 0.01 of FP32 and was no slower. NNCF's accuracy control
also met the bound, but took minutes and ran slower; it is not used. The result must agree
with FP32 on held-out frames within the bound (``LABELS_BOUND``, ``DEPTH_BOUND``) or nothing
is written. The output is
OpenVINO IR: a
``.xml`` (graph, metadata, export record with the measured agreement and the hash of the
weights) and a ``.bin`` (weights) beside it; the ``.bin`` is written first, so a crash leaves
an ``.xml`` whose hash refuses the new weights rather than a silently mixed pair.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
import tempfile
from typing import Any

from mtl_perception.engines.calibration import CalibrationFrames
from mtl_perception.engines.onnx_export import EXPORT_KEY, export_onnx, METADATA_KEY
from mtl_perception.errors import EngineError
from mtl_perception.holds import hold_if_asked
from mtl_perception.safe_output import write_atomically
import numpy as np
import onnx

LOGGER = logging.getLogger(__name__)
LABELS_BOUND = 0.99  # share of held-out pixels whose class equals FP32's
DEPTH_BOUND = 0.99  # share whose depth is within 25 % of FP32's (or equally invalid)
#: Module scopes whose operators stay float: every task head (their 8-bit inputs coarsened the
#: metres), besides the first convolution (the raw frame's range).
FLOAT_SCOPES = ('_head',)
SCOPES_KEY = 'pkg.torch.onnx.name_scopes'  # module path of each node, as the exporter writes
CPU_CONFIG = {'PERFORMANCE_HINT': 'LATENCY', 'INFERENCE_PRECISION_HINT': 'f32'}
"""f32: without it OpenVINO may compute in bfloat16 on CPUs that have it (Zen 4 does)."""


def import_openvino() -> tuple[Any, Any]:
    """Return the ``openvino`` and ``nncf`` modules.

    Raises:
        EngineError: Either is not installed; says which packages to install.
    """
    try:
        import nncf
        import openvino
    except ImportError:
        raise EngineError('INT8 needs the openvino and nncf packages (pip install '
                          '"mtl_perception[int8]", or pip install openvino nncf)') from None
    return openvino, nncf


def weights_digest(data: bytes) -> str:
    """SHA-256 of an IR's ``.bin``, as its ``.xml`` records it."""
    return hashlib.sha256(data).hexdigest()


def agreement(reference: list[tuple[np.ndarray, np.ndarray]],
              candidate: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Labels and depth agreement of ``candidate`` with ``reference`` (lists of labels, depth).

    Depth agrees where both are finite and within 25 % of each other (delta1 against FP32),
    or where both are the same kind of invalid (too near, too far, none).
    """
    labels, depth = [], []
    for (ref_labels, ref_depth), (labels_out, depth_out) in zip(reference, candidate):
        labels.append(float((labels_out == ref_labels).mean()))
        both = np.isfinite(ref_depth) & np.isfinite(depth_out) & (ref_depth > 0) & (depth_out > 0)
        ratio = np.maximum(depth_out[both] / ref_depth[both], ref_depth[both] / depth_out[both])
        close = np.zeros(ref_depth.shape, bool)
        close[both] = ratio < 1.25
        same_invalid = ~np.isfinite(ref_depth) & ~np.isfinite(depth_out) & (
            np.sign(np.nan_to_num(ref_depth)) == np.sign(np.nan_to_num(depth_out))) & (
            np.isnan(ref_depth) == np.isnan(depth_out))
        depth.append(float((close | same_invalid).mean()))
    return {'labels_agree': float(np.mean(labels)), 'depth_agree': float(np.mean(depth))}


def export_int8(checkpoint: str | Path, output: str | Path, frames: CalibrationFrames, *,
                input_size: tuple[int, int] | None = None,
                dynamic_size: bool = False) -> dict[str, Any]:
    """Quantise ``checkpoint``'s deployment graph on ``frames`` and write it as OpenVINO IR.

    Args:
        checkpoint: The ``.pt`` file.
        output: The ``.xml`` to write (its ``.bin`` goes beside it).
        frames: Calibration and held-out frames of the model's domain.
        input_size: Network input ``(height, width)``; default: the checkpoint's.
        dynamic_size: Accept frames of any size; otherwise frames of the input size only.

    Returns:
        The export record stored in the ``.xml``.

    Raises:
        EngineError: openvino/nncf missing, the FP32 export failed, or the INT8 graph drifts
            from FP32 beyond the bound on the held-out frames (nothing is written).
        CheckpointError: The checkpoint cannot be loaded.
    """
    openvino, nncf = import_openvino()
    output = Path(output)
    with tempfile.TemporaryDirectory(prefix='mtl_int8_') as work:
        fp32 = Path(work) / 'fp32.onnx'
        record = export_onnx(checkpoint, fp32, input_size=input_size, dynamic_size=dynamic_size)
        proto = onnx.load(str(fp32))
        core = openvino.Core()
        model = core.read_model(str(fp32))
        kept_float = float_operators(proto, model)
        hold_if_asked('quantising')  # tests signal it here, its temporary files in place
        quantized, figures = _quantize(nncf, core, model, frames, kept_float)
        record = {**record, 'precision': 'int8', 'quantization': {
            'tool': f'nncf {nncf.__version__}, openvino {openvino.__version__}',
            'method': 'post-training, mixed preset, min-max, overflow fix; first convolution '
                      f'and heads float ({len(kept_float)} operators)',
            'calibration': frames.describe(),
            'held_out': {**figures, 'frames': len(frames.held_out),
                         'bounds': {'labels_agree': LABELS_BOUND, 'depth_agree': DEPTH_BOUND}}}}
        properties = {entry.key: entry.value for entry in proto.metadata_props}
        _write_ir(openvino, quantized, properties, output, record, Path(work))
    return record


def _outputs(compiled: Any, images: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    request = compiled.create_infer_request()
    results = []
    for image in images:
        result = request.infer({'image': image[None]})
        results.append((result['labels'][0].copy(), result['depth'][0].copy()))
    return results


def float_operators(proto: Any, model: Any) -> list[str]:
    """Name the OpenVINO operators of the first convolution and of the heads.

    Raises:
        EngineError: The graph records no module scopes, so the heads cannot be found.
    """
    scoped = {node.name: next((entry.value for entry in node.metadata_props
                               if entry.key == SCOPES_KEY), '') for node in proto.graph.node}
    if not any(scoped.values()):
        raise EngineError('the exported graph records no module scopes, so its heads cannot '
                          'be kept float (needs the dynamo ONNX exporter of torch >= 2.6); '
                          'nothing was written')
    first = next(node.name for node in proto.graph.node if node.op_type == 'Conv')
    wanted = {name for name, scopes in scoped.items()
              if name == first or any(scope in scopes for scope in FLOAT_SCOPES)}
    return [op.get_friendly_name() for op in model.get_ordered_ops()
            if op.get_friendly_name().split('/')[0] in wanted]


def _quantize(nncf: Any, core: Any, model: Any, frames: CalibrationFrames,
              kept_float: list[str]) -> tuple[Any, dict[str, float]]:
    """Quantise on the calibration frames, then check the result on the held-out frames."""
    from nncf.quantization.advanced_parameters import (
        AdvancedQuantizationParameters, OverflowFix
    )

    LOGGER.info('quantising to INT8 on %s', frames.describe())
    logging.getLogger('nncf').setLevel(logging.WARNING)
    try:
        quantized = nncf.quantize(
            model, nncf.Dataset([image[None] for image in frames.calibration]),
            subset_size=len(frames.calibration), preset=nncf.QuantizationPreset.MIXED,
            advanced_parameters=AdvancedQuantizationParameters(overflow_fix=OverflowFix.ENABLE),
            ignored_scope=nncf.IgnoredScope(names=kept_float, validate=False))
    except Exception as error:  # noqa: B902  NNCF and OpenVINO raise many library types
        raise EngineError(f'INT8 quantisation failed: {type(error).__name__}: '
                          f'{str(error)[:200]}') from None
    figures = agreement(_outputs(core.compile_model(model, 'CPU', CPU_CONFIG), frames.held_out),
                        _outputs(core.compile_model(quantized, 'CPU', CPU_CONFIG),
                                 frames.held_out))
    if figures['labels_agree'] < LABELS_BOUND or figures['depth_agree'] < DEPTH_BOUND:
        raise EngineError(
            f'the INT8 graph drifts from FP32 on {len(frames.held_out)} held-out frames: labels '
            f'agree on {figures["labels_agree"]:.2%} (bound {LABELS_BOUND:.0%}), depth on '
            f'{figures["depth_agree"]:.2%} (bound {DEPTH_BOUND:.0%}); nothing was written '
            '(calibrate on more frames of the scenes of the camera, or stay in FP32)')
    return quantized, figures


def _write_ir(openvino: Any, model: Any, properties: dict[str, str], output: Path,
              record: dict[str, Any], work: Path) -> None:
    """Write ``output`` (.xml) and its .bin, the weights' hash recorded in the .xml."""
    staged = work / 'model.xml'
    openvino.save_model(model, str(staged), compress_to_fp16=False)
    weights = staged.with_suffix('.bin').read_bytes()
    record['weights_sha256'] = weights_digest(weights)
    model.set_rt_info(properties[METADATA_KEY], [METADATA_KEY])
    model.set_rt_info(json.dumps(record), [EXPORT_KEY])
    openvino.save_model(model, str(staged), compress_to_fp16=False)
    if weights_digest(staged.with_suffix('.bin').read_bytes()) != record['weights_sha256']:
        raise EngineError('OpenVINO wrote different weights on a second save; nothing written')
    write_atomically(output.with_suffix('.bin'), lambda stream: stream.write(weights))
    write_atomically(output, lambda stream: stream.write(staged.read_bytes()))
