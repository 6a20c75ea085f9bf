# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The one way to get an engine for a model file: :func:`load_engine`.

Every module ``engines/<backend>_engine.py`` is a backend. It defines ``BACKEND`` (its name),
``AUTO_PREFERENCE`` (``auto`` takes the available backend with the highest),
``available() -> bool``, ``MODEL_SUFFIXES`` (the model files it runs; ``auto`` takes the only
backend that runs a file's kind) and ``open_engine(path, options) -> Engine``, which refuses
with one clear error what it cannot run. A new engine is one new module; nothing here
changes.

``precision`` says what arithmetic runs the network: ``auto`` (float16 on CUDA, float32 on the
CPU), ``fp32``, ``fp16`` or ``int8`` (the ``openvino`` backend, CPU only).
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from types import ModuleType

from mtl_perception.engines import backend_names, PRECISIONS
from mtl_perception.engines.contract import Engine, EngineOptions
from mtl_perception.errors import CheckpointError, ExportCacheError, ModelConfigError

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


INT8_BACKEND = 'openvino'


def resolve_backend(backend: str, suffix: str = '', precision: str = 'auto') -> str:
    """Turn ``auto`` into a backend: int8's, the one of the file's kind, or the best available.

    Raises:
        ModelConfigError: Unknown backend or precision, or ``int8`` with another backend.
    """
    if precision not in PRECISIONS:
        raise ModelConfigError(f'unknown precision {precision!r}; use one of {PRECISIONS}')
    if precision == 'int8':
        if backend not in ('auto', INT8_BACKEND):
            raise ModelConfigError(f'precision int8 runs on backend {INT8_BACKEND} (or auto), '
                                   f'not {backend}')
        return INT8_BACKEND
    if backend != 'auto':
        backend_module(backend)
        return backend
    modules = [backend_module(name) for name in backend_names()]
    runners = [m for m in modules if suffix in m.MODEL_SUFFIXES]
    if len(runners) == 1:  # a file only one backend runs (.onnx, .xml)
        return runners[0].BACKEND
    return max((m for m in modules if m.available()), key=lambda m: m.AUTO_PREFERENCE).BACKEND


def load_engine(path: str | Path, *, backend: str = 'auto', device: str = 'auto',
                half: bool | None = None, input_size: tuple[int, int] | None = None,
                channels_last: bool = True, compile_model: bool = False,
                precision: str = 'auto') -> Engine:
    """Load a ``.pt`` checkpoint or an exported ``.onnx`` graph with the chosen backend.

    Args:
        path: Checkpoint (``.pt``) or exported graph (``.onnx``).
        backend: ``auto`` (the best installed engine) or a name of :func:`backend_names`.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        half: Float16 (torch: CUDA only; ONNX Runtime: in TensorRT).
        input_size: Network input ``(height, width)``; default: the trained size.
        channels_last: Torch only: NHWC memory layout.
        compile_model: Torch only: ``torch.compile``.
        precision: ``auto`` (``half`` decides), ``fp32``, ``fp16`` (override ``half``) or
            ``int8`` (backend openvino; a ``.pt`` trained on rendered streets is quantised
            on first use and cached).

    Raises:
        ModelConfigError: Inconsistent options (an ``.onnx`` file with backend torch, ...).
        CheckpointError: The checkpoint cannot be loaded.
        EngineError: The graph cannot be exported, loaded or run, or no installed engine
            runs an exported graph.
        ExportCacheError: The export cache cannot be written and ``backend`` names a graph
            engine or ``precision`` is ``int8`` (otherwise, with ``auto``, the checkpoint runs
            on torch instead, with a warning).
    """
    path = Path(path)
    chosen = resolve_backend(backend, path.suffix.lower(), precision)
    half = {'fp32': False, 'fp16': True}.get(precision, half)
    if not path.is_file():
        raise CheckpointError(f'{path}: model file not found')
    if path.suffix.lower() == '.xml' and precision not in ('auto', 'int8'):
        raise ModelConfigError(f'{path} is an INT8 model; precision {precision} needs the '
                               '.pt checkpoint or an FP32 .onnx export')
    options = EngineOptions(device=str(device), half=half, input_size=input_size,
                            channels_last=channels_last, compile_model=compile_model)
    try:
        return backend_module(chosen).open_engine(path, options)
    except ExportCacheError as error:
        if backend != 'auto' or chosen == 'torch' or precision == 'int8':
            raise  # asked for explicitly (a graph engine, or INT8): no silent float fallback
        LOGGER.warning('%s. Backend auto runs this checkpoint with torch instead.', error)
        return backend_module('torch').open_engine(path, options)
