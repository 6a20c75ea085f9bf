# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Choose the engine for a model file: PyTorch, or ONNX Runtime on an exported graph.

A ``.pt`` checkpoint run with ONNX Runtime is exported on first use and the graph cached under
the user cache directory, keyed by the checkpoint's SHA-256 and the input size, so the next
start is immediate; a damaged cache entry is exported again.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path

from mtl_perception.checkpoint import file_sha256
from mtl_perception.engines import BACKENDS
from mtl_perception.engines.onnx_export import export_onnx
from mtl_perception.engines.onnxruntime_engine import OnnxRuntimePredictor
from mtl_perception.errors import CheckpointError, EngineError, ModelConfigError
from mtl_perception.inference import Predictor

LOGGER = logging.getLogger(__name__)
CACHE_ENV = 'MTL_PERCEPTION_CACHE'
#: What :func:`load_predictor` returns: either engine, one contract.
AnyPredictor = Predictor | OnnxRuntimePredictor


def resolve_backend(backend: str) -> str:
    """Turn ``auto`` into ``onnxruntime`` when that package is installed, else ``torch``.

    Raises:
        ModelConfigError: Unknown backend name.
    """
    if backend not in BACKENDS:
        raise ModelConfigError(f'unknown backend {backend!r}; use one of {BACKENDS}')
    if backend == 'auto':
        return 'onnxruntime' if importlib.util.find_spec('onnxruntime') else 'torch'
    return backend


def cache_dir() -> Path:
    """Return ``$MTL_PERCEPTION_CACHE``, else ``$XDG_CACHE_HOME`` or ``~/.cache``, + package."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get('XDG_CACHE_HOME') or Path.home() / '.cache'
    return Path(base) / 'mtl_perception'


def cached_graph(checkpoint: Path, input_size: tuple[int, int] | None) -> Path:
    """Return the exported graph of ``checkpoint`` (any frame size), exporting it if needed."""
    size = 'trained' if input_size is None else f'{input_size[0]}x{input_size[1]}'
    path = cache_dir() / 'onnx' / f'{file_sha256(checkpoint)[:20]}-{size}.onnx'
    if not path.is_file():
        LOGGER.info('exporting %s to ONNX (first use; cached as %s)', checkpoint, path)
        export_onnx(checkpoint, path, input_size=input_size, dynamic_size=True)
    return path


def load_predictor(path: str | Path, *, backend: str = 'auto', device: str = 'auto',
                   half: bool | None = None, input_size: tuple[int, int] | None = None,
                   channels_last: bool = True,
                   compile_model: bool = False) -> AnyPredictor:
    """Load a ``.pt`` checkpoint or an ``.onnx`` graph with the chosen backend.

    Args:
        path: Checkpoint (``.pt``) or exported graph (``.onnx``).
        backend: ``auto`` (ONNX Runtime when installed), ``torch`` or ``onnxruntime``.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        half: Float16 (torch: CUDA only; ONNX Runtime: in TensorRT).
        input_size: Network input ``(height, width)``; default: the trained size.
        channels_last: Torch only: NHWC memory layout.
        compile_model: Torch only: ``torch.compile``.

    Raises:
        ModelConfigError: Inconsistent options (an ``.onnx`` file with backend torch, ...).
        CheckpointError: The checkpoint cannot be loaded.
        EngineError: The graph cannot be exported, loaded or run.
    """
    path = Path(path)
    chosen = resolve_backend(backend)
    if not path.is_file():
        raise CheckpointError(f'{path}: model file not found')
    is_graph = path.suffix.lower() == '.onnx'
    if is_graph and chosen == 'torch':
        if backend == 'torch':
            raise ModelConfigError(f'{path} is an exported ONNX graph: use backend onnxruntime')
        raise EngineError(f'{path} is an exported ONNX graph and onnxruntime is not installed')
    if chosen == 'torch':
        return Predictor.from_checkpoint(path, device=device, half=half, input_size=input_size,
                                         channels_last=channels_last,
                                         compile_model=compile_model)
    if compile_model:
        raise ModelConfigError('compile_model applies to backend torch; ONNX Runtime '
                               'optimises the graph itself')
    if is_graph:
        if input_size is not None:
            raise ModelConfigError(f'{path}: an exported graph has its input size fixed; '
                                   're-export with mtl_export_onnx --input-size')
        return OnnxRuntimePredictor(path, device=device, half=half)
    graph = cached_graph(path, input_size)
    try:
        return OnnxRuntimePredictor(graph, device=device, half=half)
    except EngineError as error:
        LOGGER.warning('cached graph %s is unusable (%s); exporting it again', graph, error)
        graph.unlink(missing_ok=True)
        return OnnxRuntimePredictor(cached_graph(path, input_size), device=device, half=half)
