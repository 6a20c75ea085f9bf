# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The package's commands run as their console scripts run, held and signalled at named points.

A test starts ``python -m mtl_perception COMMAND`` with ``MTL_HOLD_AT`` set to a hold point,
waits for the ``holding at ...`` line, sends its signal and checks what the process did; no
sleep stands in for "it is probably there by now".
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from mtl_perception.holds import HOLD_ENV


class RunningProcess:
    """A command of the package in a child process, its output read line by line meanwhile.

    Reading in a thread means a test can wait for a line (a hold point's announcement, the
    ready line) without a sleep and without the child blocking on a full pipe.
    """

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._new_line = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self._new_line:
                self.lines.append(line.rstrip('\n'))
                self._new_line.notify_all()
        with self._new_line:
            self._new_line.notify_all()

    @property
    def output(self) -> str:
        """Everything the process printed so far."""
        return '\n'.join(self.lines)

    def has_line(self, text: str) -> bool:
        """Whether a line containing ``text`` was printed."""
        return any(text in line for line in self.lines)

    def wait_for(self, text: str, timeout: float = 180.0) -> None:
        """Block until a line containing ``text`` appears; fail if the process ends first."""
        deadline = time.monotonic() + timeout
        with self._new_line:
            while not self.has_line(text):
                if not self._reader.is_alive() or time.monotonic() > deadline:
                    raise AssertionError(f'no line with {text!r} (exit code '
                                         f'{self.process.poll()}):\n{self.output[-3000:]}')
                self._new_line.wait(timeout=0.5)

    def signal(self, number: int) -> None:
        """Send signal ``number`` to the process."""
        self.process.send_signal(number)

    def finish(self, timeout: float = 300.0) -> tuple[int, str]:
        """Wait for the process to end; return its exit code and output."""
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=30)
        return code, self.output

    def stop(self) -> None:
        """End the process if it still runs (SIGTERM, then SIGKILL after 300 s)."""
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=300)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_command(program: str, *arguments: str, domain: str | int | None = None,
                  hold: str | None = None, **env: str) -> RunningProcess:
    """Start ``python -m mtl_perception PROGRAM ARGUMENTS`` (its console script's process).

    Args:
        program: The console script, e.g. ``mtl_bag_play``.
        arguments: Its arguments.
        domain: ``ROS_DOMAIN_ID`` for the child.
        hold: A hold point (``MTL_HOLD_AT``) to stop at.
        env: Further environment variables.
    """
    environment = {**os.environ, 'PYTHONUNBUFFERED': '1', **env}
    if domain is not None:
        environment['ROS_DOMAIN_ID'] = str(domain)
    if hold is not None:
        environment[HOLD_ENV] = hold
    return RunningProcess([sys.executable, '-m', 'mtl_perception', program, *arguments],
                          environment)


def run_until_held(arguments: list, point: str, number: int,
                   timeout: float = 300.0) -> tuple[int, str]:
    """Run a command until it holds at ``point``, send signal ``number``; return code, output."""
    process = start_command(*map(str, arguments), hold=point)
    process.wait_for(f'holding at {point}', timeout=timeout)
    process.signal(number)
    return process.finish(timeout=timeout)
