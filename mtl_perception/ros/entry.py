# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The process around a perception node: signals, spinning, exit codes.

The signal handlers are the package's (:mod:`mtl_perception.commands` installs them before
PyTorch, ONNX Runtime or rclpy are imported) and only set a stop flag; rclpy's own are never
installed, so the ROS context is shut down here, last, and never under a publisher in use. A
signal at any instant (importing, initialising rclpy, loading the model, creating the
publishers, serving, shutting down) ends the process with exit 0 and one line.

Inference runs on the process's main thread and the executor spins in a second one. The
other way round, PyTorch's OpenMP pool on the CPU belongs to a second thread: libgomp then
manages more threads than there are cores and throttles its spin-waiting, which made every
forward pass 60 % slower on a 2-core machine (docs/benchmarks.md).

``python -m mtl_perception perception_node --ros-args ...`` runs the node where the console
scripts are not on PATH.
"""

from __future__ import annotations

import sys
import threading
from typing import Callable

from mtl_perception.holds import hold_if_asked
from mtl_perception.process_signals import stop_flag, StopFlag
from mtl_perception.ros import NODE_NAME
from mtl_perception.ros.errors import ModelLoadError, RosArgumentsError, SettingsError

_HELP = """usage: {program} [--help] [--ros-args -p NAME:=VALUE ... --params-file FILE -r FROM:=TO]

{summary}

ROS arguments (after --ros-args): -p NAME:=VALUE sets a parameter, --params-file FILE reads
a parameter file (config/perception.yaml), -r FROM:=TO remaps a topic (image, camera_info),
-r __ns:=/NS and -r __node:=NAME place the node, --log-level LEVEL.

parameters (default):
{parameters}

Exit codes: 0 stopped by SIGINT/SIGTERM (or a lifecycle shutdown), 1 cannot start (a bad
parameter, a bad --ros-args argument, a model that cannot be loaded) or the executor failed.
Topics, QoS and diagnostics: docs/ros_api.md.
"""
_SUMMARIES = {
    'perception_node': 'Camera in; semantic segmentation, metric depth and a semantic point '
                       'cloud out, from one network.',
    'perception_lifecycle_node': 'The perception node as a managed (lifecycle) node: '
                                 'configure loads the network, activate opens the topics.',
}


def main(argv: list[str] | None = None) -> int:
    """Run ``perception_node``; exit 0 on SIGINT/SIGTERM at any instant, 1 if it cannot start."""
    return run(_plain_node_class, 'perception_node', argv)


def lifecycle_main(argv: list[str] | None = None) -> int:
    """Run ``perception_lifecycle_node`` (unconfigured until a manager configures it)."""
    return run(_lifecycle_node_class, 'perception_lifecycle_node', argv)


def run(node_class: Callable[[], type], program: str, argv: list[str] | None) -> int:
    """Import (``node_class()``), make and serve the node; ``--help`` only prints the help."""
    argv = sys.argv[1:] if argv is None else list(argv)
    own = argv[:argv.index('--ros-args')] if '--ros-args' in argv else argv
    if {'-h', '--help'} & set(own):
        sys.stdout.write(help_text(program))
        return 0
    # rclpy first, the node's modules (seconds of PyTorch) after: bad --ros-args fail at once
    return run_node(node_class, [program, *argv], stop_flag())


def help_text(program: str) -> str:
    """Return the node's ``--help``: how to pass ROS arguments, every parameter, its default."""
    from mtl_perception.ros.parameters import PARAMETERS

    lines = [f'  {name} ({default!r}): {text}'
             for name, (default, _, text, _) in PARAMETERS.items()]
    return _HELP.format(program=program, summary=_SUMMARIES[program],
                        parameters='\n'.join(lines))


def _plain_node_class() -> type:
    from mtl_perception.ros.node import PerceptionNode

    return PerceptionNode


def _lifecycle_node_class() -> type:
    from mtl_perception.ros.lifecycle_node import PerceptionLifecycleNode

    return PerceptionLifecycleNode


def run_node(node_class: Callable[[], type], argv: list[str] | None, stop: StopFlag) -> int:
    """Serve a node of the class ``node_class()`` imports until ``stop`` is set.

    Exit code 1 with one FATAL line on a failure.

    The failures: ``--ros-args`` are malformed, the node cannot start, or its executor ends
    with an exception.

    Signals only set ``stop``, which both loops check every 0.1 s of wall time: rclpy's own
    SIGTERM handling was seen to hang under ``use_sim_time`` once ``/clock`` stopped.
    """
    import rclpy
    from mtl_perception.ros.rcl_init import init_rclpy
    from rclpy.executors import SingleThreadedExecutor

    logger = rclpy.logging.get_logger(NODE_NAME)
    try:
        init_rclpy(argv or [NODE_NAME])
    except RosArgumentsError as error:
        logger.fatal(str(error))
        return 1
    node = None
    try:
        hold_if_asked('init', stop)
        if stop.is_set():
            return _stopped(logger, stop, 'before it started')
        kind = node_class()
        if stop.is_set():  # a signal while importing
            return _stopped(logger, stop, 'before it started')
        node = kind()
        if stop.is_set():  # a signal during the start-up: leave without serving
            return _stopped(logger, stop, 'while starting')
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        failures: list[Exception] = []
        spinner = threading.Thread(target=spin_until, args=(executor, stop, failures),
                                   name='executor')
        spinner.start()
        try:
            node.serve(stop)
        finally:
            serving_stopped = stop.is_set()
            stop.set()
            spinner.join()
        if failures:
            error = failures[0]
            first = next(iter(str(error).splitlines()), '')
            logger.fatal(f'the executor failed, the node stops: {type(error).__name__}: {first}')
            return 1
        if serving_stopped:
            _stopped(logger, stop, 'while serving')
    except (ModelLoadError, SettingsError) as error:
        logger.fatal(str(error))
        return 1
    finally:
        hold_if_asked('shutdown', stop.next_signal())
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


def _stopped(logger: object, stop: StopFlag, when: str) -> int:
    """Say in one line that a signal stopped the node ``when``; return exit code 0."""
    if stop.signal_name:
        logger.info(f'stopped by {stop.signal_name} {when}')
    return 0


def spin_until(executor: object, stop: threading.Event, failures: list[Exception]) -> None:
    """Run callbacks until ``stop`` (then set); wall-clock timeouts, whatever the ROS clock does.

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
