# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The package's commands: each owns its signals before its heavy modules are imported.

Every console script (``setup.py``) and ``python -m mtl_perception COMMAND ...`` come here.
Importing a command's module (PyTorch, ONNX Runtime, rclpy) takes seconds; a SIGINT or
SIGTERM meanwhile must already be the package's (:mod:`mtl_perception.process_signals`), not
Python's default traceback or silent death. This module imports only the standard library
and names the modules by string, so nothing heavy is loaded before the handler is in place.
"""

from __future__ import annotations

from dataclasses import dataclass
import importlib
import sys

from mtl_perception.holds import hold_if_asked
from mtl_perception.process_signals import (
    ignore_signals, INTERRUPT, INTERRUPTED_EXIT, own_signals, STOP
)


@dataclass(frozen=True)
class Command:
    """Where a command's ``main`` lives and how its process treats SIGINT and SIGTERM.

    ``stopped_exit`` is the exit code of a process stopped by a signal before its ``main``
    ran (0 for the ROS processes, as ``ros2 run`` ends a node on Ctrl-C; 130 for tools).
    """

    module: str
    function: str = 'main'
    mode: str = INTERRUPT
    stopped_exit: int = INTERRUPTED_EXIT


COMMANDS: dict[str, Command] = {
    'perception_node': Command('mtl_perception.ros.entry', 'main', STOP, 0),
    'perception_lifecycle_node': Command('mtl_perception.ros.entry', 'lifecycle_main', STOP, 0),
    'mtl_bag_play': Command('mtl_perception.ros.bag_play', mode=STOP, stopped_exit=0),
    'mtl_demo': Command('mtl_perception.ros.demo'),
    'mtl_process_bag': Command('mtl_perception.ros.process_bag'),
    'mtl_infer': Command('mtl_perception.tools.infer'),
    'mtl_kitti_to_bag': Command('mtl_perception.tools.kitti_to_bag'),
    'mtl_import_checkpoint': Command('mtl_perception.tools.import_checkpoint'),
    'mtl_export_onnx': Command('mtl_perception.tools.export_onnx'),
    'mtl_train': Command('mtl_perception.training.train'),
    'mtl_eval': Command('mtl_perception.training.evaluate'),
    'mtl_distill': Command('mtl_perception.training.distill'),
    'mtl_export': Command('mtl_perception.training.export'),
}


def run(program: str, argv: list[str] | None = None) -> int:
    """Own the signals, import ``program``'s module, run its ``main``; return the exit code.

    A signal before ``main`` starts (while importing) ends the process with the command's
    ``stopped_exit`` and one line; an interrupt that ``main`` lets escape, with 130 and one
    line. Once ``main`` returns, signals are ignored: the process is leaving by itself.
    """
    command = COMMANDS[program]
    argv = sys.argv[1:] if argv is None else list(argv)
    flag = own_signals(command.mode)
    started = False
    try:
        hold_if_asked('start', flag)
        if not flag.is_set():
            main = getattr(importlib.import_module(command.module), command.function)
        if flag.is_set():
            return _stopped(program, flag.signal_name, command.stopped_exit, True)
        started = True
        return main(argv)
    except KeyboardInterrupt:
        return _stopped(program, flag.signal_name or 'SIGINT', INTERRUPTED_EXIT, not started)
    finally:
        ignore_signals()


def _stopped(program: str, signal_name: str, code: int, before_main: bool) -> int:
    """Say in one line that a signal stopped ``program``; return ``code``."""
    when = ' before it started' if before_main else ''
    sys.stderr.write(f'{program}: stopped by {signal_name}{when}\n')
    return code


def _console_script(program: str):
    """Build the console-script function of ``program`` (what ``setup.py`` names)."""
    def entry() -> int:
        return run(program)
    entry.__name__ = entry.__qualname__ = program
    entry.__doc__ = f'Run ``{program}`` (console script).'
    return entry


perception_node = _console_script('perception_node')
perception_lifecycle_node = _console_script('perception_lifecycle_node')
mtl_bag_play = _console_script('mtl_bag_play')
mtl_demo = _console_script('mtl_demo')
mtl_process_bag = _console_script('mtl_process_bag')
mtl_infer = _console_script('mtl_infer')
mtl_kitti_to_bag = _console_script('mtl_kitti_to_bag')
mtl_import_checkpoint = _console_script('mtl_import_checkpoint')
mtl_export_onnx = _console_script('mtl_export_onnx')
mtl_train = _console_script('mtl_train')
mtl_eval = _console_script('mtl_eval')
mtl_distill = _console_script('mtl_distill')
mtl_export = _console_script('mtl_export')
