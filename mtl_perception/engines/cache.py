# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The export cache: a ``.pt`` checkpoint run by a graph engine is exported once per input size.

Entries live under the user cache directory, keyed by the checkpoint's SHA-256, the input
size, the export format and the precision (FP32 ``.onnx``; INT8 ``.xml`` + ``.bin``), so the
next start is immediate; an entry that its engine cannot load is exported again (see
:func:`drop_entry`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from mtl_perception.checkpoint import load_checkpoint
from mtl_perception.engines.calibration import rendered_frames
from mtl_perception.engines.int8_export import export_int8
from mtl_perception.engines.onnx_export import EXPORT_FORMAT, export_onnx
from mtl_perception.errors import ExportCacheError
from mtl_perception.safe_output import room_problem
from mtl_perception.weights_file import file_sha256

LOGGER = logging.getLogger(__name__)
CACHE_ENV = 'MTL_PERCEPTION_CACHE'
_HINT = f'; set {CACHE_ENV} to a writable folder'
_TORCH_HINT = f'{_HINT}, or use the torch backend'  # not for INT8: torch runs no INT8


def cache_dir() -> Path:
    """Return ``$MTL_PERCEPTION_CACHE``, else ``$XDG_CACHE_HOME`` or ``~/.cache``, + package."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get('XDG_CACHE_HOME') or Path.home() / '.cache'
    return Path(base) / 'mtl_perception'


def cached_graph(checkpoint: Path, input_size: tuple[int, int] | None) -> Path:
    """Return the exported graph of ``checkpoint`` (any frame size), exporting it if needed.

    The cache folder is checked for writing before the export (which takes seconds), so a
    read-only or misplaced cache is one clear error instead of a wasted export.

    Raises:
        ExportCacheError: The cache cannot be written, before or while exporting.
        EngineError, CheckpointError: From the export itself.
    """
    path = _entry(checkpoint, input_size, 'onnx')
    if not path.is_file():
        _check_writable(path.parent, 2 * checkpoint.stat().st_size, _TORCH_HINT)
        LOGGER.info('exporting %s to ONNX (first use; cached as %s)', checkpoint, path)
        try:
            export_onnx(checkpoint, path, input_size=input_size, dynamic_size=True)
        except OSError as error:
            raise ExportCacheError(f'could not write the exported graph {path}: '
                                   f'{error.strerror or error}{_TORCH_HINT}') from None
    return path


def cached_int8(checkpoint: Path, input_size: tuple[int, int] | None) -> Path:
    """Return the INT8 export of ``checkpoint`` (any frame size), quantising it if needed.

    Only a checkpoint trained on rendered streets can be calibrated here (on rendered frames
    of its training seeds); any other is refused with the command that exports it.

    Raises:
        ModelConfigError: The checkpoint was not trained on rendered streets.
        ExportCacheError: The cache cannot be written.
        EngineError, CheckpointError: From the export itself (a graph that drifts from FP32
            beyond the bound is refused).
    """
    path = _entry(checkpoint, input_size, 'int8.xml')
    if not path.is_file() or not path.with_suffix('.bin').is_file():
        metadata = load_checkpoint(checkpoint).metadata
        size = input_size or tuple(metadata.input_size)
        _check_writable(path.parent, checkpoint.stat().st_size, _HINT)
        frames = rendered_frames(metadata, str(checkpoint), size)
        LOGGER.info('quantising %s to INT8 (first use, minutes; cached as %s)', checkpoint, path)
        try:
            export_int8(checkpoint, path, frames, input_size=input_size, dynamic_size=True)
        except OSError as error:
            raise ExportCacheError(f'could not write the INT8 graph {path}: '
                                   f'{error.strerror or error}{_HINT}') from None
    return path


def _entry(checkpoint: Path, input_size: tuple[int, int] | None, suffix: str) -> Path:
    size = 'trained' if input_size is None else f'{input_size[0]}x{input_size[1]}'
    return (cache_dir() / 'onnx'
            / f'{file_sha256(checkpoint)[:20]}-{size}-f{EXPORT_FORMAT}.{suffix}')


def _check_writable(folder: Path, needed_bytes: int, hint: str) -> None:
    problem = room_problem(folder, needed_bytes)
    if problem is not None:
        raise ExportCacheError(f'the export cache {problem}{hint}')


def drop_entry(graph: Path, reason: object) -> None:
    """Remove a cache entry its engine refused: the next :func:`cached_graph` exports again."""
    LOGGER.warning('cached graph %s is unusable (%s); exporting it again', graph, reason)
    graph.unlink(missing_ok=True)
    if graph.suffix == '.xml':
        graph.with_suffix('.bin').unlink(missing_ok=True)
