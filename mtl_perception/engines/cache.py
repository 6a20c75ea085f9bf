# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The export cache: a ``.pt`` checkpoint run by a graph engine is exported once per input size.

Entries live under the user cache directory, keyed by the checkpoint's SHA-256 and the input
size, so the next start is immediate; an entry that its engine cannot load is exported again
(see :func:`drop_entry`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from mtl_perception.checkpoint import file_sha256
from mtl_perception.engines.onnx_export import export_onnx

LOGGER = logging.getLogger(__name__)
CACHE_ENV = 'MTL_PERCEPTION_CACHE'


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


def drop_entry(graph: Path, reason: object) -> None:
    """Remove a cache entry its engine refused: the next :func:`cached_graph` exports again."""
    LOGGER.warning('cached graph %s is unusable (%s); exporting it again', graph, reason)
    graph.unlink(missing_ok=True)
