# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The ONNX Runtime engine: an exported graph (``mtl_export_onnx``) behind the engine contract.

A ``.pt`` checkpoint is exported on first use through the export cache (:mod:`.cache`).

Execution providers follow the device: on CUDA, TensorRT (float16 when ``half``, engines
cached beside the exported graph) then CUDA then the CPU, as far as the installed
``onnxruntime`` package has them (``onnxruntime-gpu`` for CUDA/TensorRT); on the CPU, the CPU
provider with as many threads as PyTorch uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
import ctypes
import importlib.util
import logging
from pathlib import Path
from typing import Any

from google.protobuf.message import DecodeError
from mtl_perception.checkpoint import ModelMetadata
from mtl_perception.engines.cache import cached_graph, drop_entry
from mtl_perception.engines.contract import (
    check_batch, DevicePrediction, EngineOptions
)
from mtl_perception.engines.exported_graph import GraphEngineBase, read_graph_metadata
from mtl_perception.engines.onnx_export import graph_digest
from mtl_perception.errors import EngineError, ModelConfigError
import numpy as np
import onnx
import torch

BACKEND = 'onnxruntime'
#: ``auto`` prefers the available backend with the highest preference.
AUTO_PREFERENCE = 10
MODEL_SUFFIXES = ('.onnx', '.pt')
LOGGER = logging.getLogger(__name__)
TENSORRT_LIBRARIES = ('libnvinfer.so.10', 'libnvinfer.so.11', 'libnvinfer.so')
CONCURRENT_CPU_RUNS = 4  # frames of one infer_batch run at the same time on the CPU


def import_onnxruntime() -> Any:
    """Return the ``onnxruntime`` module.

    Raises:
        EngineError: It is not installed; says which package to install.
    """
    try:
        import onnxruntime
    except ImportError:
        raise EngineError('backend onnxruntime needs the onnxruntime package (pip install '
                          'onnxruntime, or onnxruntime-gpu for CUDA/TensorRT)') from None
    return onnxruntime


def available() -> bool:
    """Whether the ``onnxruntime`` package is installed."""
    return importlib.util.find_spec('onnxruntime') is not None


def open_engine(path: Path, options: EngineOptions) -> OnnxRuntimeEngine:
    """Run an exported graph, or a checkpoint through its cached export.

    Raises:
        ModelConfigError: Options this engine cannot honour (``compile_model``, an input size
            for an already exported graph).
        CheckpointError: The checkpoint cannot be loaded.
        EngineError: The graph cannot be exported, loaded or run.
    """
    if options.compile_model:
        raise ModelConfigError('compile_model applies to backend torch; ONNX Runtime '
                               'optimises the graph itself')
    if path.suffix.lower() == '.onnx':
        if options.input_size is not None:
            raise ModelConfigError(f'{path}: an exported graph has its input size fixed; '
                                   're-export with mtl_export_onnx --input-size')
        return OnnxRuntimeEngine(path, device=options.device, half=options.half)
    graph = cached_graph(path, options.input_size)
    try:
        return OnnxRuntimeEngine(graph, device=options.device, half=options.half)
    except EngineError as error:
        drop_entry(graph, error)
        return OnnxRuntimeEngine(cached_graph(path, options.input_size), device=options.device,
                                 half=options.half)


def tensorrt_libraries_found() -> bool:
    """Whether the TensorRT runtime library can be opened (onnxruntime-gpu does not bring it)."""
    for name in TENSORRT_LIBRARIES:
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        return True
    return False


def usable_providers(available: list[str]) -> list[str]:
    """Return the providers ``onnxruntime`` lists, less TensorRT when its libraries are missing.

    Asked for without them, ONNX Runtime prints a page of errors and falls back to CUDA
    (seen on an H100 with onnxruntime-gpu alone); one log line says it instead.
    """
    if 'TensorrtExecutionProvider' in available and not tensorrt_libraries_found():
        LOGGER.info('TensorRT libraries (%s) not found: using the CUDA provider',
                    TENSORRT_LIBRARIES[0])
        return [name for name in available if name != 'TensorrtExecutionProvider']
    return list(available)


def providers_for(device: str, half: bool | None, available: list[str],
                  cache: Path) -> list[Any]:
    """List the execution providers to ask for, best first, for ``device``.

    Raises:
        ModelConfigError: CUDA asked for but this onnxruntime has no CUDA provider.
    """
    if device == 'cpu':
        return ['CPUExecutionProvider']
    if not device.startswith('cuda') and device != 'auto':
        raise ModelConfigError(f'unknown device {device!r}; use "auto", "cpu", "cuda" or '
                               '"cuda:N"')
    if 'CUDAExecutionProvider' not in available:
        if device == 'auto':
            return ['CPUExecutionProvider']
        raise ModelConfigError(
            f'device {device!r} requested but onnxruntime offers only {available}; install '
            'onnxruntime-gpu, or use device "auto" or "cpu"')
    index = int(device.split(':')[1]) if ':' in device else 0
    chosen: list[Any] = []
    if 'TensorrtExecutionProvider' in available:
        chosen.append(('TensorrtExecutionProvider', {
            'device_id': index, 'trt_fp16_enable': half is not False,
            'trt_engine_cache_enable': True, 'trt_engine_cache_path': str(cache)}))
    chosen.append(('CUDAExecutionProvider', {'device_id': index}))
    chosen.append('CPUExecutionProvider')
    return chosen


def read_verified_graph(path: Path) -> tuple[bytes, ModelMetadata, dict[str, Any]]:
    """Read an exported graph and check its weights and nodes against the hash it records.

    Returns:
        The file's bytes (to run exactly what was checked), its metadata and export record.

    Raises:
        EngineError: Not ONNX, not ours, or changed since it was exported (a flipped bit in
            the weights decodes fine and runs, with wrong outputs).
    """
    data = path.read_bytes()
    try:
        proto = onnx.load_from_string(data)
    except (DecodeError, ValueError) as error:
        raise EngineError(f'{path}: not a loadable ONNX graph (damaged or not ONNX): '
                          f'{str(error)[:200]}') from None
    props = {entry.key: entry.value for entry in proto.metadata_props}
    metadata, record = read_graph_metadata(props, str(path))
    if graph_digest(proto) != record.get('graph_sha256'):
        raise EngineError(f'{path}: damaged graph: its content no longer matches the hash '
                          'recorded at export; export it again (mtl_export_onnx)')
    return data, metadata, record


class OnnxRuntimeEngine(GraphEngineBase):
    """Runs an exported graph with the engine contract.

    Results come back on the host (``device`` is the CPU for the output tensors); the
    execution provider that runs the graph is :attr:`provider`.

    Args:
        graph: The ``.onnx`` file.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        half: Float16 in TensorRT (default on); the CUDA and CPU providers run the graph as
            exported.
        threads: CPU threads; default: as many as PyTorch uses.

    Raises:
        EngineError: Missing, corrupt or foreign graph; the message names the file.
    """

    backend = BACKEND

    def __init__(self, graph: str | Path, *, device: str = 'auto', half: bool | None = None,
                 threads: int | None = None) -> None:
        onnxruntime = import_onnxruntime()
        self.path = Path(graph)
        if not self.path.is_file():
            raise EngineError(f'{self.path}: no such file')
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # idle workers sleep instead of spinning: the node builds and publishes outputs
        # right after each run, and spinning workers took the cores it needs (outputs 2 ms
        # in one process, 17 ms inside the node with spinning; docs/benchmarks.md)
        options.add_session_config_entry('session.intra_op.allow_spinning', '0')
        providers = providers_for(str(device), half,
                                  usable_providers(onnxruntime.get_available_providers()),
                                  self.path.parent / 'tensorrt')
        data, metadata, record = read_verified_graph(self.path)
        try:
            self.session = onnxruntime.InferenceSession(data, options, providers=providers)
        except Exception as error:  # noqa: B902  onnxruntime raises its own Fail/InvalidGraph
            first = next(iter(str(error).splitlines()), type(error).__name__)
            raise EngineError(f'{self.path}: not a loadable ONNX graph (damaged or not ONNX): '
                              f'{first[:200]}') from None
        super().__init__(metadata, record)
        self.provider = self.session.get_providers()[0]
        wanted = providers[0][0] if isinstance(providers[0], tuple) else providers[0]
        if self.provider != wanted:
            LOGGER.warning('%s could not start; running on %s', wanted, self.provider)
        self.device = torch.device('cpu')
        self.half = self.provider == 'TensorrtExecutionProvider' and half is not False
        self._runners: ThreadPoolExecutor | None = None  # concurrent CPU runs, made on demand

    def infer_batch(self, images: Sequence[np.ndarray], *,
                    bgr: bool = False) -> list[DevicePrediction]:
        """Predict frames of one size: one run of the graph's batch axis on a GPU provider.

        On the CPU the frames run concurrently instead, one run each on the same session
        (ONNX Runtime's ``run`` is thread-safe): one batched run was no faster than a run
        per frame there, while concurrent runs fill the cores where one run leaves them idle
        (three 640x192 cameras in the node on 2 cores: 12.7 frames/s against 9.3;
        docs/benchmarks.md).

        Raises:
            InputImageError: No frames, a frame that is not ``HxWx3`` uint8, frames of
                different sizes, or (for a fixed-size graph) not of the exported size.
        """
        if len(images) < 2 or self.provider != 'CPUExecutionProvider':
            return super().infer_batch(images, bgr=bgr)
        check_batch(images)
        if self._runners is None:
            self._runners = ThreadPoolExecutor(CONCURRENT_CPU_RUNS,
                                               thread_name_prefix='onnxruntime_run')
        return list(self._runners.map(lambda image: self._run(image[None], bgr)[0], images))

    def _run(self, frames: np.ndarray, bgr: bool) -> list[DevicePrediction]:
        """Run the graph on checked ``NxHxWx3`` frames; split its outputs per frame."""
        outputs = self.session.run(None, {'image': self.graph_input(frames, bgr)})
        return self.predictions(outputs[0], outputs[1],
                                outputs[2] if self.has_normals else None)
