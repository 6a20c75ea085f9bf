# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Outputs that appear complete or not at all: written beside their target, then renamed.

A tool that fails or is killed half-way must not leave a partial file or bag behind (a reader
would take it for a whole one, and a re-run of a bag writer would refuse the existing path).
Files go through a temporary sibling, fsync and ``os.replace``; folders (bags) through a
hidden staging folder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import contextlib
import logging
import math
import os
from pathlib import Path
import shutil
import tempfile
from typing import Any, BinaryIO

LOGGER = logging.getLogger(__name__)


def write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> Path:
    """Write a file with ``write(stream)`` into a temporary sibling, then rename it to ``path``.

    The file gets the permissions of an ordinary new file under the umask (``mkstemp`` alone
    gives 0600); on any failure the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent)
    try:
        with os.fdopen(handle, 'wb') as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def room_problem(folder: Path, needed_bytes: int = 0) -> str | None:
    """Say why ``folder`` cannot take a new file of ``needed_bytes``, or None if it can.

    Checked before long work (an export, a quantisation) whose result would otherwise fail
    to be written only at its end. The folder is created if missing; a probe file is made
    and removed; the free space must hold ``needed_bytes``.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
        free = shutil.disk_usage(folder).free
    except OSError as error:
        return f'{folder} is not writable ({error.strerror or error})'
    if free < needed_bytes:
        return (f'{folder} has {free / 1e6:.1f} MB free, and about {needed_bytes / 1e6:.1f} MB '
                'are needed')
    return None


def _staging_prefix(output: Path) -> str:
    return f'.{output.name}.partial-'


def remove_stale_stagings(output: Path) -> None:
    """Delete staging folders of ``output`` that a killed earlier run left behind."""
    if not output.parent.is_dir():
        return
    for stale in output.parent.glob(_staging_prefix(output) + '*'):
        shutil.rmtree(stale, ignore_errors=True)
        LOGGER.info('removed %s, left by an interrupted run', stale)


@contextlib.contextmanager
def staged_folder(output: Path) -> Iterator[Path]:
    """Yield the path to write ``output`` at; it becomes ``output`` only if the block succeeds.

    The yielded path has ``output``'s name (bag writers name their files after the folder)
    inside a hidden staging folder beside ``output``; any exception, or a signal that ends
    the block, deletes it.
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_stagings(output)
    staging = Path(tempfile.mkdtemp(prefix=_staging_prefix(output), dir=output.parent))
    try:
        yield staging / output.name
        os.replace(staging / output.name, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def json_safe(value: Any) -> Any:
    """Replace NaN and infinities (a class never seen, no valid depth) by None: valid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value
