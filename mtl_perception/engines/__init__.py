# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Inference engines behind one contract (:mod:`.contract`), one module per backend.

This file imports nothing heavy: backends are found by their module names
(``<backend>_engine.py``) without importing them. Get an engine with
:func:`.loading.load_engine`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
import pkgutil

ENGINE_SUFFIX = '_engine'
#: What arithmetic runs the network (see :func:`.loading.load_engine`).
PRECISIONS = ('auto', 'fp32', 'fp16', 'int8')


@cache
def backend_names() -> tuple[str, ...]:
    """Names of the backends this installation has a module for, e.g. ``onnxruntime``."""
    found = (module.name for module in pkgutil.iter_modules([str(Path(__file__).parent)]))
    return tuple(sorted(name[:-len(ENGINE_SUFFIX)] for name in found
                        if name.endswith(ENGINE_SUFFIX)))


def backend_choices() -> tuple[str, ...]:
    """Every accepted value of a ``backend`` option: ``auto`` and each backend."""
    return ('auto', *backend_names())


def backend_help() -> str:
    """``--backend`` help of the command-line tools (argparse fills in the default)."""
    return (f'inference engine: auto (ONNX Runtime when installed, else torch), '
            f'{" or ".join(backend_names())} (a .pt model run by a graph engine is exported '
            'on first use and cached; default: %(default)s)')
