# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Export a checkpoint as one self-contained ONNX graph: uint8 image in, labels and metres out.

The graph holds everything the Predictor does per frame (channel order, resize to the network
input, normalisation, forward pass, bilinear upsampling to the frame, argmax, depth masking,
normals renormalisation), so a C++ or Jetson consumer needs nothing of this package. The
checkpoint's metadata travels in the file's ``metadata_props``. An export is compared with the
torch Predictor before it is written, and refused if the two disagree.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import hashlib
import io
import json
import logging
from pathlib import Path
from typing import Any
import warnings

from mtl_perception.checkpoint import load_checkpoint, ModelMetadata
from mtl_perception.engines.torch_engine import Predictor
from mtl_perception.errors import EngineError
from mtl_perception.safe_output import write_atomically
from mtl_perception.weights_file import file_sha256
import numpy as np
import torch
from torch import nn

#: 2: the export record carries ``graph_sha256`` (the graph's content hash); 3: the input
#: and outputs have a leading batch axis (``NxHxWx3`` frames in).
EXPORT_FORMAT = 3
METADATA_KEY = 'mtl_perception.metadata'
EXPORT_KEY = 'mtl_perception.export'
OPSET = 18  # Resize with antialias (the Predictor's downscaling)
MIN_SIDE, MAX_SIDE = 32, 8192
MAX_BATCH = 64  # frames per pass the graph accepts (its batch axis is dynamic)


class DeploymentGraph(nn.Module):
    """The Predictor's whole per-frame computation as one traceable module.

    Args:
        predictor: A float32 CPU Predictor; its network, sizes and masks are used.
        half: Run the network in float16 (pre- and post-processing stay float32).
    """

    def __init__(self, predictor: Predictor, *, half: bool = False) -> None:
        super().__init__()
        self.predictor = predictor
        self.network = predictor.model.half() if half else predictor.model
        self.half = half

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Map ``NxHxWx3`` uint8 RGB frames to labels, depth [and normals] at ``NxHxW``."""
        batch = self.predictor.preprocess(images, always_resize=True)
        outputs = self.network(batch.half() if self.half else batch)
        if self.half:
            outputs = {name: value.float() for name, value in outputs.items()}
        result = self.predictor.postprocess_batch(outputs, (images.shape[1], images.shape[2]))
        if result.normals is None:
            return result.labels, result.depth
        return result.labels, result.depth, result.normals


def output_names(metadata: ModelMetadata) -> list[str]:
    """Names of the graph's outputs, in order."""
    return ['labels', 'depth'] + (['normals'] if metadata.arch_kwargs.get('normals') else [])


def export_onnx(checkpoint: str | Path, output: str | Path, *,
                input_size: tuple[int, int] | None = None, dynamic_size: bool = False,
                half: bool = False, verbose: bool = False) -> dict[str, Any]:
    """Export ``checkpoint`` to ``output`` after checking it against the torch Predictor.

    Args:
        checkpoint: The ``.pt`` file.
        output: The ``.onnx`` file; written atomically, never left half-written.
        input_size: Network input ``(height, width)``; default: the checkpoint's.
        dynamic_size: Accept frames of any size; otherwise frames of the input size only.
        half: Run the network in float16 (for TensorRT / CUDA; slow on most CPUs).
        verbose: Let the exporter print and log its progress (about a hundred lines).

    Returns:
        The export record stored in the file (``EXPORT_KEY``).

    Raises:
        CheckpointError: The checkpoint cannot be loaded.
        EngineError: Tracing failed, or the exported graph disagrees with the Predictor.
    """
    checkpoint, output = Path(checkpoint), Path(output)
    loaded = load_checkpoint(checkpoint)
    predictor = Predictor(loaded.model, loaded.metadata, device='cpu', half=False,
                          input_size=input_size, channels_last=False)
    metadata = loaded.metadata
    record = {'format': EXPORT_FORMAT, 'input_size': list(predictor.input_size),
              'dynamic_size': dynamic_size, 'half': half, 'opset': OPSET,
              'outputs': output_names(metadata), 'checkpoint': checkpoint.name,
              'checkpoint_sha256': file_sha256(checkpoint), 'torch': torch.__version__}
    frame = test_frame(predictor.input_size)
    graph = DeploymentGraph(predictor, half=half).eval()
    proto = _trace(graph, frame, record, verbose)
    record['graph_sha256'] = graph_digest(proto)
    meta = {**metadata.to_dict(), 'input_size': list(predictor.input_size),
            'resize_input': predictor.resizes}
    for key, value in ((METADATA_KEY, meta), (EXPORT_KEY, record)):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, json.dumps(value)
    data = proto.SerializeToString()
    # the graph was traced in NCHW: compare like with like (NHWC only reorders the sums)
    reference = Predictor(load_checkpoint(checkpoint).model, metadata, device='cpu', half=False,
                          input_size=input_size, channels_last=False)
    sizes = [predictor.input_size]
    if dynamic_size:
        sizes.append((predictor.input_size[0] * 3 // 2 + 1, predictor.input_size[1] * 3 // 2 + 1))
    for size in sizes:
        verify(data, reference, test_frame(size), half=half)
    write_atomically(output, lambda stream: stream.write(data))
    return record


def _trace(graph: DeploymentGraph, frame: np.ndarray, record: dict[str, Any],
           verbose: bool) -> Any:
    """Trace ``graph`` with the dynamo exporter; returns the ONNX ModelProto.

    Unless ``verbose``, the exporter's progress (printed, and logged at INFO by onnxscript
    and onnx_ir: about a hundred lines) is kept out of the user's console.
    """
    axes = {0: torch.export.Dim('batch', min=1, max=MAX_BATCH)}
    if record['dynamic_size']:
        axes[1] = torch.export.Dim('height', min=MIN_SIDE, max=MAX_SIDE)
        axes[2] = torch.export.Dim('width', min=MIN_SIDE, max=MAX_SIDE)
    quiet = contextlib.ExitStack()
    if not verbose:
        quiet.enter_context(contextlib.redirect_stdout(io.StringIO()))
        quiet.enter_context(_no_info_logs())
        quiet.enter_context(warnings.catch_warnings())
        warnings.simplefilter('ignore')
    try:
        with torch.inference_mode(False), torch.no_grad(), quiet:
            program = torch.onnx.export(
                graph, (torch.from_numpy(np.stack([frame, frame])),), dynamo=True,
                opset_version=OPSET, input_names=['image'], output_names=record['outputs'],
                dynamic_shapes={'images': axes}, verbose=False)
    except Exception as error:  # noqa: B902  the exporter raises many library types
        first = next(iter(str(error).splitlines()), type(error).__name__)
        raise EngineError(f'ONNX export failed: {type(error).__name__}: {first}') from None
    return program.model_proto


@contextlib.contextmanager
def _no_info_logs() -> Iterator[None]:
    """Disable log records at INFO and below (all loggers) for the duration."""
    previous = logging.root.manager.disable
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(previous)


def graph_digest(proto: Any) -> str:
    """SHA-256 of a model's graph (nodes and weights; not its metadata, which records it)."""
    return hashlib.sha256(proto.graph.SerializeToString()).hexdigest()


def test_frame(size: tuple[int, int]) -> np.ndarray:
    """A deterministic frame with structure (bands, gradients, noise) of ``size``."""
    height, width = size
    rng = np.random.default_rng(12345)
    rows, cols = np.meshgrid(np.linspace(0, 1, height), np.linspace(0, 1, width), indexing='ij')
    base = np.stack([rows * 200 + 30, cols * 180 + 40, (1 - rows) * 150 + 50], axis=2)
    base[height // 3:2 * height // 3] *= 0.5
    noise = rng.normal(0, 12, (height, width, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def depth_kinds(depth: np.ndarray) -> np.ndarray:
    """Classify each pixel as 0 finite, 1 too far (+Inf), 2 too near (-Inf), 3 none (NaN)."""
    return np.select([np.isposinf(depth), np.isneginf(depth), np.isnan(depth)], [1, 2, 3], 0)


def verify(data: bytes, reference: Predictor, frame: np.ndarray, *, half: bool) -> None:
    """Run the graph with ONNX Runtime's CPU engine and compare it with ``reference``.

    Raises:
        EngineError: Labels agree on fewer than 99.9 % of pixels (99 % in float16), depth
            differs by more than 1e-3 relative (1e-2; absolute below 1 cm), or the invalid
            pixels differ.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(data, options, providers=['CPUExecutionProvider'])
    outputs = [output[0] for output in session.run(None, {'image': frame[None]})]
    expected = reference.predict(frame)
    agreement = float((outputs[0] == expected.labels).mean())
    both = np.isfinite(outputs[1]) & np.isfinite(expected.depth)
    same_mask = float((depth_kinds(outputs[1]) == depth_kinds(expected.depth)).mean())
    # relative above 1 cm, absolute (1e-5 m) below: |x| of an output crossing zero gives
    # depths of micrometres, where float rounding alone is a large fraction
    error = float(np.max(np.abs(outputs[1][both] - expected.depth[both])
                         / np.maximum(expected.depth[both], 1e-2), initial=0.0))
    tolerance, needed = (1e-2, 0.99) if half else (1e-3, 0.999)
    if agreement < needed or same_mask < needed or error > tolerance:
        raise EngineError(
            f'the exported graph disagrees with the torch Predictor on a '
            f'{frame.shape[1]}x{frame.shape[0]} test frame (labels agree on {agreement:.2%}, '
            f'depth validity on {same_mask:.2%}, depth differs by up to {error:.1e} relative); '
            'nothing was written')
