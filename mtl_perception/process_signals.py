# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""How every process of the package owns SIGINT and SIGTERM, from its first instant.

Python's defaults end a process with a ``KeyboardInterrupt`` traceback (SIGINT) or with no
word at all (SIGTERM, exit 143), and rclpy's own handler shuts the ROS context down under the
main thread, so a publisher in use dies with ``publisher's context is invalid``. So the
console scripts (:mod:`mtl_perception.commands`) install one of two handlers before anything
heavy is imported:

- **stop** (ROS processes: the nodes, ``mtl_bag_play``, ``mtl_demo``): a signal only sets a
  :class:`StopFlag`, which the process's loops check; it then shuts down in order (its own
  ROS context last, never under a running publisher) and ends with its documented exit code.
- **interrupt** (offline tools): the first signal raises :class:`Interrupted` (a
  ``KeyboardInterrupt``) in the main thread, so the work stops where it is, staged outputs
  are removed by their context managers, and the tool says so in one line and exits 130.

Later signals only set the flag again: shutting down is never interrupted twice.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import signal
import threading
from types import FrameType

#: Exit code of a tool stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report Ctrl-C).
INTERRUPTED_EXIT = 130
STOP = 'stop'
INTERRUPT = 'interrupt'
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived in an offline tool; ``signal_name`` says which."""

    def __init__(self, signal_number: int) -> None:
        self.signal_name = signal.Signals(signal_number).name
        super().__init__(self.signal_name)


class StopFlag(threading.Event):
    """Set by the first SIGINT or SIGTERM; remembers which one."""

    signal_number: int | None = None

    def __init__(self) -> None:
        super().__init__()
        self._next: list[threading.Event] = []

    def next_signal(self) -> threading.Event:
        """Return an event that the next signal sets (the flag itself may be set already)."""
        event = threading.Event()
        self._next.append(event)
        return event

    def signalled(self, number: int) -> None:
        """Record signal ``number``: the first one names the flag; every one sets it."""
        if self.signal_number is None:
            self.signal_number = number
        self.set()
        while self._next:
            self._next.pop().set()

    @property
    def signal_name(self) -> str:
        """Name the signal that set the flag (``SIGTERM``), or ``''`` while unset."""
        return signal.Signals(self.signal_number).name if self.signal_number else ''


class _Handler:
    """Sets ``flag``; in ``interrupt`` mode the first signal also raises :class:`Interrupted`."""

    def __init__(self, flag: StopFlag, mode: str) -> None:
        self.flag, self.mode = flag, mode

    def __call__(self, number: int, frame: FrameType | None) -> None:
        first = self.flag.signal_number is None
        self.flag.signalled(number)
        if first and self.mode == INTERRUPT:
            raise Interrupted(number)


def own_signals(mode: str) -> StopFlag:
    """Install the package's SIGINT/SIGTERM handler in ``mode``; return its flag.

    Called again, it keeps the flag (a signal already received stays received) and only
    changes the mode. Outside the main thread, where handlers cannot be installed, the flag
    returned is never set by a signal.
    """
    if mode not in (STOP, INTERRUPT):
        raise ValueError(f'mode must be {STOP!r} or {INTERRUPT!r}, got {mode!r}')
    installed = signal.getsignal(signal.SIGTERM)
    flag = installed.flag if isinstance(installed, _Handler) else StopFlag()
    if threading.current_thread() is threading.main_thread():
        handler = _Handler(flag, mode)
        for number in _SIGNALS:
            signal.signal(number, handler)
    return flag


@contextlib.contextmanager
def signals_deferred() -> Iterator[StopFlag]:
    """Inside the block, SIGINT/SIGTERM only set the flag; an interrupt is raised after it.

    For the steps that must not be cut in half (stopping child processes, moving finished
    results into place). Without an installed handler (a test process) it changes nothing.
    """
    installed = signal.getsignal(signal.SIGTERM)
    if not isinstance(installed, _Handler) or installed.mode != INTERRUPT:
        yield stop_flag()
        return
    already = installed.flag.signal_number is not None
    own_signals(STOP)
    try:
        yield installed.flag
    finally:
        own_signals(INTERRUPT)
    if not already and installed.flag.signal_number is not None:
        raise Interrupted(installed.flag.signal_number)


def stop_flag() -> StopFlag:
    """Return the flag of the handler the process installed, or a new one nobody sets.

    The ROS processes take their flag here, so that their ``main`` also runs inside a test
    process (whose own signal handling stays as it is).
    """
    installed = signal.getsignal(signal.SIGTERM)
    return installed.flag if isinstance(installed, _Handler) else StopFlag()


def ignore_signals() -> None:
    """Ignore SIGINT and SIGTERM from now on: the process is leaving by itself."""
    if threading.current_thread() is threading.main_thread():
        for number in _SIGNALS:
            signal.signal(number, signal.SIG_IGN)
