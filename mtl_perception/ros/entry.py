# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Entry point of ``perception_node``: signals are handled from its first instant.

Importing the node (PyTorch, ONNX Runtime, rclpy) takes seconds, and Python's default SIGINT
handler would end it with a ``KeyboardInterrupt`` traceback. This module imports nothing
heavy: it installs handlers that only set a flag, imports the node, and hands it the flag; a
signal that arrived meanwhile ends the node cleanly (exit 0) instead.
"""

from __future__ import annotations

import signal
import sys
import threading


def main(args: list[str] | None = None) -> int:
    """Run ``perception_node``; exit 0 on SIGINT/SIGTERM at any instant, 1 if it cannot start."""
    return _run(args, lifecycle=False)


def lifecycle_main(args: list[str] | None = None) -> int:
    """Run ``perception_lifecycle_node`` (unconfigured until a manager configures it)."""
    return _run(args, lifecycle=True)


def _run(args: list[str] | None, *, lifecycle: bool) -> int:
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    try:
        from mtl_perception.ros import node
        if lifecycle:
            from mtl_perception.ros.lifecycle_node import PerceptionLifecycleNode
        if stop.is_set():
            return 0
        if lifecycle:
            return node.main(args, node_class=PerceptionLifecycleNode, stop=stop)
        return node.main(args, stop=stop)
    finally:
        for number in (signal.SIGINT, signal.SIGTERM):  # shutting down: later signals wait
            signal.signal(number, signal.SIG_IGN)


if __name__ == '__main__':
    sys.exit(main())
