# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``python -m mtl_perception COMMAND [ARGS...]``: any console script, e.g. ``mtl_bag_play``.

For interpreters without the console scripts on PATH (a second venv, a test); the command
owns its signals before its modules are imported, as the console script does.
"""

import sys

from mtl_perception.commands import COMMANDS, run

if __name__ == '__main__':
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.stderr.write(f'usage: python -m mtl_perception COMMAND [ARGS...]; COMMAND is one '
                         f'of {", ".join(sorted(COMMANDS))}\n')
        sys.exit(2)
    sys.exit(run(sys.argv[1], sys.argv[2:]))
