# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Keep FFmpeg's and OpenCV's own printing off the terminal of a command-line tool.

They write straight to file descriptor 2 ("moov atom not found", a missing hardware encoder)
while the tool checks the outcome itself and says what went wrong in one line.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import os
import sys


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Send what native code prints to file descriptor 2 to /dev/null inside the block."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, 'wb') as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
