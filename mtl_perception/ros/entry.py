# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The process around a perception node: signals, spinning, exit codes.

Importing the node (PyTorch, ONNX Runtime, rclpy) takes seconds, and Python's default SIGINT
handler would end it with a ``KeyboardInterrupt`` traceback. So the handlers come first and
only set a flag; the node is imported after them, and a signal that arrived meanwhile ends
the process cleanly (exit 0).

Inference runs on the process's main thread and the executor spins in a second one. The
other way round, PyTorch's OpenMP pool on the CPU belongs to a second thread: libgomp then
manages more threads than there are cores and throttles its spin-waiting, which made every
forward pass 60 % slower on a 2-core machine (docs/benchmarks.md).

``python -m mtl_perception.ros.entry [--lifecycle] --ros-args ...`` runs either node.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Callable

from mtl_perception.ros import NODE_NAME
from mtl_perception.ros.errors import ModelLoadError, SettingsError


def main(args: list[str] | None = None) -> int:
    """Run ``perception_node``; exit 0 on SIGINT/SIGTERM at any instant, 1 if it cannot start."""
    return run(_plain_node_class, args)


def lifecycle_main(args: list[str] | None = None) -> int:
    """Run ``perception_lifecycle_node`` (unconfigured until a manager configures it)."""
    return run(_lifecycle_node_class, args)


def run(node_class: Callable[[], type], args: list[str] | None) -> int:
    """Install the signal handlers, then import (``node_class()``) and serve the node."""
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    try:
        chosen = node_class()
        if stop.is_set():
            return 0
        return run_node(chosen, args, stop)
    finally:
        for number in (signal.SIGINT, signal.SIGTERM):  # shutting down: later signals wait
            signal.signal(number, signal.SIG_IGN)


def _plain_node_class() -> type:
    from mtl_perception.ros.node import PerceptionNode

    return PerceptionNode


def _lifecycle_node_class() -> type:
    from mtl_perception.ros.lifecycle_node import PerceptionLifecycleNode

    return PerceptionLifecycleNode


def run_node(node_class: Callable[[], object], args: list[str] | None,
             stop: threading.Event) -> int:
    """Serve ``node_class()`` until ``stop`` is set; 1 with one FATAL line on a failure.

    The failures: the node cannot start, or its executor ends with an exception.

    Signals only set ``stop``, which both loops check every 0.1 s of wall time: rclpy's own
    SIGTERM handling was seen to hang under ``use_sim_time`` once ``/clock`` stopped.
    """
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.signals import SignalHandlerOptions

    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    node = None
    try:
        node = node_class()
        if stop.is_set():  # a signal during the start-up: leave without serving
            return 0
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        failures: list[Exception] = []
        spinner = threading.Thread(target=_spin, args=(executor, stop, failures),
                                   name='executor')
        spinner.start()
        try:
            node.serve(stop)
        finally:
            stop.set()
            spinner.join()
        if failures:
            error = failures[0]
            first = next(iter(str(error).splitlines()), '')
            rclpy.logging.get_logger(NODE_NAME).fatal(
                f'the executor failed, the node stops: {type(error).__name__}: {first}')
            return 1
    except (ModelLoadError, SettingsError) as error:
        rclpy.logging.get_logger(NODE_NAME).fatal(str(error))
        return 1
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


def _spin(executor: object, stop: threading.Event, failures: list[Exception]) -> None:
    """Run callbacks until ``stop``; wall-clock timeouts, whatever the ROS clock does.

    An exception that escapes a callback ends the executor; it is kept in ``failures`` so the
    process ends with one line and exit code 1 instead of a traceback and a clean exit.
    """
    import rclpy
    from rclpy.executors import ExternalShutdownException

    try:
        while not stop.is_set() and rclpy.ok():
            executor.spin_once(timeout_sec=0.1)
    except ExternalShutdownException:
        pass
    except Exception as error:  # noqa: B902  any escaped callback error ends the node
        failures.append(error)
    finally:
        stop.set()


if __name__ == '__main__':
    sys.exit(lifecycle_main() if sys.argv[1:2] == ['--lifecycle'] else main())
