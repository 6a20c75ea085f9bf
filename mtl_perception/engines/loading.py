# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The one way to get an engine for a model file: :func:`load_engine`.

Every module ``engines/<backend>_engine.py`` is a backend. It defines ``BACKEND`` (its name),
``AUTO_PREFERENCE`` (``auto`` takes the available backend with the highest),
``available() -> bool`` and ``open_engine(path, options) -> Engine``, which refuses with one
clear error what it cannot run. A new engine is one new module; nothing here changes.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from types import ModuleType

from mtl_perception.engines import backend_names
from mtl_perception.engines.contract import Engine, EngineOptions
from mtl_perception.errors import CheckpointError, EngineError, ExportCacheError, ModelConfigError

LOGGER = logging.getLogger(__name__)


def backend_module(name: str) -> ModuleType:
    """Import the module of backend ``name``.

    Raises:
        ModelConfigError: No such backend.
    """
    if name not in backend_names():
        raise ModelConfigError(f'unknown backend {name!r}; use one of '
                               f'{("auto", *backend_names())}')
    return importlib.import_module(f'mtl_perception.engines.{name}_engine')


def resolve_backend(backend: str) -> str:
    """Turn ``auto`` into the available backend with the highest preference.

    Raises:
        ModelConfigError: Unknown backend name.
    """
    if backend != 'auto':
        backend_module(backend)
        return backend
    modules = [backend_module(name) for name in backend_names()]
    return max((m for m in modules if m.available()), key=lambda m: m.AUTO_PREFERENCE).BACKEND


def load_engine(path: str | Path, *, backend: str = 'auto', device: str = 'auto',
                half: bool | None = None, input_size: tuple[int, int] | None = None,
                channels_last: bool = True, compile_model: bool = False) -> Engine:
    """Load a ``.pt`` checkpoint or an exported ``.onnx`` graph with the chosen backend.

    Args:
        path: Checkpoint (``.pt``) or exported graph (``.onnx``).
        backend: ``auto`` (the best installed engine) or a name of :func:`backend_names`.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        half: Float16 (torch: CUDA only; ONNX Runtime: in TensorRT).
        input_size: Network input ``(height, width)``; default: the trained size.
        channels_last: Torch only: NHWC memory layout.
        compile_model: Torch only: ``torch.compile``.

    Raises:
        ModelConfigError: Inconsistent options (an ``.onnx`` file with backend torch, ...).
        CheckpointError: The checkpoint cannot be loaded.
        EngineError: The graph cannot be exported, loaded or run, or no installed engine
            runs an exported graph.
        ExportCacheError: The export cache cannot be written and ``backend`` names a graph
            engine (with ``auto`` the checkpoint runs on torch instead, with a warning).
    """
    path = Path(path)
    chosen = resolve_backend(backend)
    if not path.is_file():
        raise CheckpointError(f'{path}: model file not found')
    if backend == 'auto' and chosen == 'torch' and path.suffix.lower() == '.onnx':
        raise EngineError(f'{path} is an exported ONNX graph and onnxruntime is not installed')
    options = EngineOptions(device=str(device), half=half, input_size=input_size,
                            channels_last=channels_last, compile_model=compile_model)
    try:
        return backend_module(chosen).open_engine(path, options)
    except ExportCacheError as error:
        if backend != 'auto' or chosen == 'torch':
            raise
        LOGGER.warning('%s. Backend auto runs this checkpoint with torch instead.', error)
        return backend_module('torch').open_engine(path, options)
