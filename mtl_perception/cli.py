# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""What every command-line tool of the package does with an error it cannot go past."""

from __future__ import annotations

import argparse
from collections.abc import Callable
import sys

USAGE_ERROR = 2


def image_size(*, low: int = 32, high: int = 8192,
               example: str = '192x640') -> Callable[[str], tuple[int, int]]:
    """Build an argparse type for ``HEIGHTxWIDTH`` with both sides in ``low..high``."""
    def parse(text: str) -> tuple[int, int]:
        try:
            height, width = (int(part) for part in text.lower().split('x'))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f'{text!r} is not HEIGHTxWIDTH, e.g. {example}') from None
        if not (low <= height <= high and low <= width <= high):
            raise argparse.ArgumentTypeError(f'{text!r}: sides must be {low}..{high}')
        return height, width
    return parse


def positive_metres(text: str) -> float:
    """Parse a positive, finite distance in metres (an ``argparse`` type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a number') from None
    if not 0 < value < float('inf'):
        raise argparse.ArgumentTypeError(f'{text!r}: must be a positive number of metres')
    return value


def usage_error(program: str, error: object) -> int:
    """Write ``program: error: ...`` to stderr, as argparse does; return exit code 2."""
    sys.stderr.write(f'{program}: error: {error}\n')
    return USAGE_ERROR
