"""What every command-line tool of the package does with an error it cannot go past."""

from __future__ import annotations

import sys

USAGE_ERROR = 2


def usage_error(program: str, error: object) -> int:
    """Write ``program: error: ...`` to stderr, as argparse does; return exit code 2."""
    sys.stderr.write(f'{program}: error: {error}\n')
    return USAGE_ERROR
