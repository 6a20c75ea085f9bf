# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Reading ``torch.save`` files that may be damaged or hostile: the one way weights are loaded.

Every weight file this package reads (its own checkpoints, foreign ones to import, ImageNet
encoders) comes through :func:`load_weights_only`:

- the zip container's CRC-32 of every record is checked (``torch.load`` does not, so a file
  with flipped bytes would load and the network would output nonsense without a word);
- the pickle is read with ``weights_only=True``: tensors and plain values, never code; a
  refusal is one line that names what the file asked for, and never repeats torch's advice
  to load it unsafely;
- every tensor must fit inside its own storage: a forged tensor that declares billions of
  elements over a few bytes (zero strides) is refused before anything touches its elements.

What the formats cannot guarantee: files in PyTorch's pre-1.6 format (not zip) carry no
checksum, so changed bytes inside their tensors cannot be detected; :func:`is_legacy_format`
lets callers say so, and a SHA-256 published beside a file can be checked with
:func:`check_sha256`.
"""

from __future__ import annotations

from collections.abc import Iterable
import hashlib
from pathlib import Path
import re
from typing import Any
import warnings
import zipfile

from mtl_perception.errors import CheckpointError
import torch


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file: the provenance of imported weights, the key of exported graphs."""
    digest = hashlib.sha256()
    with Path(path).open('rb') as stream:
        for block in iter(lambda: stream.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def check_sha256(path: Path, expected: str) -> None:
    """Refuse ``path`` unless its SHA-256 is ``expected`` (hex, any case).

    Raises:
        CheckpointError: The hashes differ; both are named.
    """
    actual = file_sha256(path)
    if actual != expected.strip().lower():
        raise CheckpointError(f'{path}: damaged or a different file: its SHA-256 is {actual}, '
                              f'not the expected {expected.strip().lower()}')


def is_legacy_format(path: Path) -> bool:
    """Whether ``path`` is in PyTorch's pre-1.6 (non-zip) format, which has no checksums."""
    return not zipfile.is_zipfile(path)


def verify_container(path: Path) -> None:
    """Check the CRC-32 of every record of a zip-format ``torch.save`` file.

    Files in the pre-1.6 (non-zip) format carry no checksums and are not checked. Reading
    the whole file costs a few milliseconds.

    Raises:
        CheckpointError: A record whose checksum does not match, or a broken container.
    """
    if is_legacy_format(path):
        return
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise CheckpointError(f'{path}: damaged file (broken zip container: {error})') from None
    if damaged is not None:
        raise CheckpointError(
            f'{path}: damaged file: the checksum of {damaged!r} does not match its contents '
            '(bytes changed on disk or in transfer); restore or re-download it')


def load_weights_only(path: Path, allowed_globals: Iterable[Any] = ()) -> object:
    """Verify and load a ``torch.save`` file without running code; check every tensor.

    Raises:
        CheckpointError: Missing, damaged, hostile or forged file; one line naming it.
    """
    if not path.exists():
        raise CheckpointError(f'{path}: no such file')
    if not path.is_file():
        raise CheckpointError(f'{path}: not a regular file')
    verify_container(path)
    try:
        with warnings.catch_warnings(), torch.serialization.safe_globals(list(allowed_globals)):
            warnings.simplefilter('ignore')  # e.g. "Detected pickle protocol 4": not for users
            payload = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as error:  # noqa: B902  zip, pickle and unpickler errors share no base
        raise CheckpointError(f'{path}: {describe_load_error(error)}') from None
    for name, tensor in _tensors(payload):
        _check_fits_storage(tensor, name, path)
    return payload


def check_weight_values(state: dict[str, torch.Tensor], source: Path | str) -> None:
    """Refuse weights no trained network has: NaN or infinite values, negative variances.

    A BatchNorm with a negative running variance takes the square root of a negative number
    on every pixel: NaN depth everywhere and label 0 everywhere, without an error.

    Raises:
        CheckpointError: Names the first tensors at fault.
    """
    damaged = [key for key, value in state.items()
               if value.is_floating_point() and not torch.isfinite(value).all()]
    if damaged:
        raise CheckpointError(
            f'{source}: NaN or infinite weights in {damaged[:3]}: the file is damaged')
    negative = [f'{key} (min {value.min().item():.3g})' for key, value in state.items()
                if key.endswith('running_var') and (value < 0).any()]
    if negative:
        raise CheckpointError(
            f'{source}: impossible statistics: negative running variance in {negative[:3]}: '
            'the file is damaged')


def describe_load_error(error: Exception) -> str:
    """One line out of torch's multi-paragraph load errors, without its unsafe advice."""
    text = str(error)
    refused = re.search(r'GLOBAL (\S+)', text)
    if refused:
        return (f'refused to load: the pickle asks for {refused.group(1)}, which is not a '
                'tensor or plain value (a checkpoint needs nothing else; this file may be '
                'malicious or from a different program)')
    if 'WeightsUnpickler error' in text or 'Weights only load failed' in text:
        reason = text.split('WeightsUnpickler error:', 1)[-1].strip().splitlines()
        detail = reason[0].strip()[:120] if reason and 'Weights only' not in reason[0] else ''
        return ('not a readable checkpoint: it uses pickle instructions a weight file never '
                f'needs{f" ({detail})" if detail else ""}; it is damaged, from a different '
                'program, or malicious, and is not loaded')
    first = next((line for line in text.splitlines() if line.strip()), type(error).__name__)
    sentence = first.strip().split('. ')[0][:200]
    return f'not a readable checkpoint (truncated or damaged?): {sentence}'


def _tensors(payload: object, prefix: str = '') -> Iterable[tuple[str, torch.Tensor]]:
    """Every tensor inside nested dicts, lists and tuples, with its key path."""
    if isinstance(payload, torch.Tensor):
        yield prefix or 'tensor', payload
    elif isinstance(payload, dict):
        for key, value in payload.items():
            yield from _tensors(value, f'{prefix}.{key}' if prefix else str(key))
    elif isinstance(payload, (list, tuple)):
        for index, value in enumerate(payload):
            yield from _tensors(value, f'{prefix}[{index}]')


def _check_fits_storage(tensor: torch.Tensor, name: str, path: Path) -> None:
    """Refuse a tensor whose declared elements reach beyond its storage or overlap."""
    if tensor.numel() == 0:
        return
    reach = tensor.storage_offset() + 1 + sum(
        (size - 1) * stride for size, stride in zip(tensor.shape, tensor.stride()))
    stored = tensor.untyped_storage().nbytes() // tensor.element_size()
    overlapping = any(stride == 0 and size > 1
                      for size, stride in zip(tensor.shape, tensor.stride()))
    if reach > stored or overlapping or any(stride < 0 for stride in tensor.stride()):
        raise CheckpointError(
            f'{path}: forged or damaged tensor {name!r}: it declares shape '
            f'{tuple(tensor.shape)} with strides {tuple(tensor.stride())} over a storage of '
            f'{stored} elements (weights never share or repeat elements)')
