# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The OpenVINO engine: INT8 graphs on the CPU (``precision: int8``).

It runs OpenVINO IR written by ``mtl_export_onnx --precision int8`` (see :mod:`.int8_export`);
a ``.pt`` checkpoint trained on rendered streets is quantised on first use through the export
cache (calibrated on rendered frames of its training seeds; minutes, once). OpenVINO's FP32
was measured no faster than ONNX Runtime's on this graph (docs/benchmarks_int8.md), so FP32
graphs stay with the ``onnxruntime`` backend; ``auto`` never picks this one for a checkpoint.

The ``.xml`` records the SHA-256 of its ``.bin``: damaged or swapped weights are refused. The
``.xml`` itself has no hash of its own (it would have to contain it); OpenVINO's reader
refuses a damaged one, but an edited graph structure that still parses is not detected.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from mtl_perception.engines.cache import cached_int8, drop_entry
from mtl_perception.engines.contract import DevicePrediction, EngineOptions
from mtl_perception.engines.exported_graph import GraphEngineBase, read_graph_metadata
from mtl_perception.engines.int8_export import CPU_CONFIG, import_openvino, weights_digest
from mtl_perception.engines.onnx_export import EXPORT_KEY, METADATA_KEY
from mtl_perception.errors import EngineError, ModelConfigError
import numpy as np
import torch

BACKEND = 'openvino'
#: Below every other backend: ``auto`` takes it only for ``.xml`` models and ``precision: int8``.
AUTO_PREFERENCE = -10
MODEL_SUFFIXES = ('.xml', '.pt')


def available() -> bool:
    """Whether the ``openvino`` package is installed."""
    return importlib.util.find_spec('openvino') is not None


def open_engine(path: Path, options: EngineOptions) -> OpenVinoEngine:
    """Run an INT8 IR, or a checkpoint through its cached INT8 export.

    Raises:
        ModelConfigError: Options this engine cannot honour (a GPU, float16, compile_model,
            an input size for an exported graph), or a graph that is not INT8 IR.
        CheckpointError: The checkpoint cannot be loaded.
        EngineError: The graph cannot be quantised, loaded or run.
    """
    if options.compile_model:
        raise ModelConfigError('compile_model applies to backend torch')
    if options.device not in ('auto', 'cpu'):
        raise ModelConfigError(f'backend openvino (INT8) runs on the CPU; device '
                               f'{options.device!r} needs backend onnxruntime (TensorRT) or '
                               'torch')
    if options.half:
        raise ModelConfigError('backend openvino runs INT8; float16 is for CUDA devices')
    suffix = path.suffix.lower()
    if suffix not in MODEL_SUFFIXES:
        raise ModelConfigError(f'{path}: backend openvino runs INT8 OpenVINO IR (.xml from '
                               'mtl_export_onnx --precision int8) or a .pt checkpoint; run '
                               'an .onnx graph with backend onnxruntime')
    if suffix == '.xml':
        if options.input_size is not None:
            raise ModelConfigError(f'{path}: an exported graph has its input size fixed; '
                                   're-export with mtl_export_onnx --input-size')
        return OpenVinoEngine(path)
    graph = cached_int8(path, options.input_size)
    try:
        return OpenVinoEngine(graph)
    except EngineError as error:
        drop_entry(graph, error)
        return OpenVinoEngine(cached_int8(path, options.input_size))


def read_verified_ir(openvino: Any, core: Any, path: Path) -> tuple[Any, Any, dict[str, Any]]:
    """Read an INT8 IR and check its weights against the hash its ``.xml`` records.

    Returns:
        The OpenVINO model (read from the checked bytes), its metadata and export record.

    Raises:
        EngineError: Missing ``.bin``, not IR, not ours, or weights changed since export.
    """
    weights_path = path.with_suffix('.bin')
    if not weights_path.is_file():
        raise EngineError(f'{path}: its weights {weights_path.name} are missing beside it')
    xml, weights = path.read_bytes(), weights_path.read_bytes()
    try:
        model = core.read_model(model=xml, weights=openvino.Tensor(
            np.frombuffer(weights, np.uint8)))
    except RuntimeError as error:
        said = [line.strip() for line in str(error).splitlines() if line.strip()]
        raise EngineError(f'{path}: not a loadable OpenVINO IR (damaged, or not IR): '
                          f'{(said or [type(error).__name__])[-1][:200]}') from None
    properties = {key: model.get_rt_info([key]).astype(str)
                  for key in (METADATA_KEY, EXPORT_KEY) if model.has_rt_info([key])}
    metadata, record = read_graph_metadata(properties, str(path))
    if record.get('weights_sha256') != weights_digest(weights):
        raise EngineError(f'{path}: damaged model: {weights_path.name} no longer matches the '
                          'hash recorded at export; export it again (mtl_export_onnx '
                          '--precision int8)')
    return model, metadata, record


class OpenVinoEngine(GraphEngineBase):
    """Runs an INT8 OpenVINO IR on the CPU with the engine contract.

    Args:
        graph: The ``.xml`` file (its ``.bin`` beside it).
        threads: CPU threads; default: as many as PyTorch uses.

    Raises:
        EngineError: Missing, damaged or foreign model; the message names the file.
    """

    backend = BACKEND

    def __init__(self, graph: str | Path, *, threads: int | None = None) -> None:
        openvino, _ = import_openvino()
        self.path = Path(graph)
        if not self.path.is_file():
            raise EngineError(f'{self.path}: no such file')
        core = openvino.Core()
        model, metadata, record = read_verified_ir(openvino, core, self.path)
        if record.get('precision') != 'int8':
            raise ModelConfigError(f'{self.path}: not an INT8 export')
        config = {**CPU_CONFIG, 'INFERENCE_NUM_THREADS': threads or torch.get_num_threads()}
        try:
            self._request = core.compile_model(model, 'CPU', config).create_infer_request()
        except RuntimeError as error:
            raise EngineError(f'{self.path}: OpenVINO cannot compile it: '
                              f'{str(error).splitlines()[-1][:200]}') from None
        super().__init__(metadata, record)
        self.provider = 'OpenVINO CPU int8'
        self.device = torch.device('cpu')
        self.half = False

    def _run(self, frames: np.ndarray, bgr: bool) -> list[DevicePrediction]:
        result = self._request.infer({'image': self.graph_input(frames, bgr)})
        outputs = {port.get_any_name(): value for port, value in result.items()}
        return self.predictions(outputs['labels'].copy(), outputs['depth'].copy(),
                                outputs['normals'].copy() if self.has_normals else None)
