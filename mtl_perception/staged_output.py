"""Folders that appear complete or not at all: written in a hidden sibling, then renamed.

Bag writers create a folder of several files; a tool that fails or is killed half-way must not
leave one behind (a re-run would then refuse the existing path, and a reader would take the
partial bag for a whole one).
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import logging
import os
from pathlib import Path
import shutil
import tempfile

LOGGER = logging.getLogger(__name__)


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
