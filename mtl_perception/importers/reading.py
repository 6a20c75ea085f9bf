# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Read a foreign checkpoint file without running any code it might carry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mtl_perception.errors import CheckpointError, CheckpointImportError
from mtl_perception.weights_file import load_weights_only
import numpy as np
import torch


def _numpy_scalar_globals() -> list[Any]:
    """Return the globals a pickled numpy scalar needs, e.g. ``np.float64(0.4)`` scores.

    Training scripts of 2019-2021 stored epoch scores as numpy scalars next to the weights.
    Only scalars and their dtypes are allowed; arrays and every other object stay refused.
    The reconstructor is named under both numpy 1 (``numpy.core``) and numpy 2 (``_core``).
    """
    core = getattr(np, '_core', None) or np.core
    scalar = core.multiarray.scalar
    dtype_classes = [getattr(np.dtypes, name) for name in dir(np.dtypes)
                     if name.endswith('DType') and name[0].isupper()]
    return [np.dtype, *dtype_classes,
            (scalar, 'numpy.core.multiarray.scalar'),
            (scalar, 'numpy._core.multiarray.scalar')]


def load_untrusted(path: Path) -> object:
    """Load a foreign file through :func:`load_weights_only`, numpy scalars allowed.

    Raises:
        CheckpointImportError: Missing, damaged, hostile or forged file; names the file.
    """
    try:
        return load_weights_only(path, _numpy_scalar_globals())
    except CheckpointError as error:
        raise CheckpointImportError(str(error)) from None


def unwrap_state_dict(payload: object, path: Path) -> dict[str, torch.Tensor]:
    """Find the state dict in a loaded file and drop a ``module.`` (DataParallel) prefix.

    Accepts ``{'state_dict': sd, ...}`` (both foreign layouts) or a bare state dict.

    Raises:
        CheckpointImportError: No state dict of tensors found.
    """
    if isinstance(payload, dict) and 'format_version' in payload and 'metadata' in payload:
        raise CheckpointImportError(
            f'{path}: already an mtl_perception checkpoint; use it directly (no import needed)')
    state = payload.get('state_dict', payload) if isinstance(payload, dict) else None
    if not isinstance(state, dict) or not state or not all(
            isinstance(key, str) and isinstance(value, torch.Tensor)
            for key, value in state.items()):
        raise CheckpointImportError(
            f'{path}: holds no state dict of tensors (expected {{"state_dict": {{name: '
            'tensor}}}} or a bare state dict)')
    if all(key.startswith('module.') for key in state):
        state = {key[len('module.'):]: value for key, value in state.items()}
    return state
