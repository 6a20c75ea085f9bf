# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Signal a ROS process of the package at random instants, many times; count clean endings.

The tests signal each process at named hold points (deterministic); this is the soak beside
them: ``perception_node`` and ``mtl_bag_play --loop`` are started again and again, and
SIGINT or SIGTERM arrives after a random 0.05-3 s (importing, initialising, creating
publishers, warming up, serving or publishing). A try is clean when the process ends within
60 s with exit code 0 and no traceback, and, when a stop line was printed, exactly one.
Tries that land in the interpreter's own first instants (before the package's code runs)
end by the default action (SIGTERM: exit 143) and are counted apart.

    python bench/random_signals.py --tries 50 [--seed 0]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
import random
import signal
import subprocess
import sys
import tempfile
import time

ROOT = Path(__file__).resolve().parents[1]


def _commands(bag: Path) -> dict[str, list[str]]:
    python = [sys.executable, '-m', 'mtl_perception']
    return {
        'perception_node': [*python, 'perception_node', '--ros-args', '-p', 'backend:=torch'],
        'mtl_bag_play': [*python, 'mtl_bag_play', str(bag), '--loop', '--delay', '0'],
    }


def _bag(folder: Path) -> Path:
    sys.path.insert(0, str(ROOT / 'test' / 'ros'))
    sys.path.insert(0, str(ROOT / 'test'))
    from ros_fixtures import kitti_bag

    return kitti_bag(folder, seed=6, frames=5, width=48, height=16, sensors=True)[0]


def _try(command: list[str], delay: float, number: int) -> str:
    """Run one try; return 'clean', 'default action' or what went wrong."""
    env = {**os.environ, 'ROS_DOMAIN_ID': str(1 + os.getpid() % 100)}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    time.sleep(delay)
    process.send_signal(number)
    try:
        output = process.communicate(timeout=60)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        return 'hung (killed after 60 s)'
    if process.returncode == -signal.SIGTERM and not output.strip():
        return 'default action'
    stops = [line for line in output.splitlines() if 'stopped' in line]
    if process.returncode != 0 or 'Traceback' in output or len(stops) > 1:
        return f'exit {process.returncode}: {output.strip().splitlines()[-1:]!r}'
    return 'clean'


def main() -> int:
    """Run the tries and print one line per process: clean, default action, failures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--tries', type=int, default=50)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    chance = random.Random(args.seed)
    failed = False
    with tempfile.TemporaryDirectory() as folder:
        for name, command in _commands(_bag(Path(folder))).items():
            outcomes: dict[str, int] = {}
            for _ in range(args.tries):
                number = chance.choice((signal.SIGINT, signal.SIGTERM))
                outcome = _try(command, chance.uniform(0.05, 3.0), number)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            failures = {k: v for k, v in outcomes.items() if k not in ('clean', 'default action')}
            failed |= bool(failures)
            print(f'{name}: {args.tries} tries: {outcomes.get("clean", 0)} clean, '
                  f'{outcomes.get("default action", 0)} ended by the default action before the '
                  f'package ran, failures: {failures or "none"}', flush=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
