# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Starting rclpy in a process that owns its signals, with ``--ros-args`` errors in one line.

``rclpy.init`` parses ``--ros-args`` and reports a malformed one as a multi-line
``RCLError`` (with C source locations) after rcl has printed its own ``[ERROR]`` line to file
descriptor 2. :func:`init_rclpy` keeps rcl's printing back during the call (and passes it on
when the call succeeds) and turns the error into one sentence that names the argument.
rclpy's own signal handlers are never installed: they would shut the context down under
the main thread (:mod:`mtl_perception.process_signals` owns the signals).
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import os
import re
import sys
import tempfile

from mtl_perception.ros.errors import RosArgumentsError

_SOURCE_LOCATION = re.compile(r',? at [^,]*\.(?:c|cpp|hpp|h):\d+')
#: Words YAML 1.1 (rcl's parameter parser) reads as booleans when they are not quoted.
_YAML_BOOLEANS = {'y', 'n', 'yes', 'no', 'on', 'off', 'true', 'false'}
_OVERRIDE = re.compile(r"'-p (?P<name>[^:]+):=\[(?P<items>.*)\]'")


def init_rclpy(argv: list[str]) -> None:
    """Initialise rclpy with ``argv`` (program name first), leaving the signals alone.

    Raises:
        RosArgumentsError: A malformed ``--ros-args`` argument; the message names it.
    """
    import rclpy
    from rclpy._rclpy_pybind11 import RCLError
    from rclpy.signals import SignalHandlerOptions

    with _native_stderr_held() as held:
        try:
            rclpy.init(args=argv, signal_handler_options=SignalHandlerOptions.NO)
        except RCLError as error:
            held.pass_on = False  # rcl's "Failed to parse global arguments": said better here
            raise RosArgumentsError(ros_arguments_problem(str(error))) from None


def ros_arguments_problem(message: str) -> str:
    """Turn rcl's initialisation error into one line: the argument and what is wrong with it."""
    text = ' '.join(message.split())
    text = _SOURCE_LOCATION.sub('', text).removeprefix('failed to initialize rcl: ')
    text = text.replace('. Error: ', ': ')
    hint = ''
    match = _OVERRIDE.search(text)
    if match:
        booleans = [item.strip() for item in match['items'].split(',')
                    if item.strip().lower() in _YAML_BOOLEANS]
        if booleans:
            hint = (f' (YAML reads {", ".join(booleans)} as a boolean: quote the names, '
                    f'e.g. -p "{match["name"]}:=[\'{booleans[0]}\', ...]")')
    return f'--ros-args: {text}{hint}'


class _Held:
    """What :func:`_native_stderr_held` does with the output it held back."""

    pass_on = True


@contextlib.contextmanager
def _native_stderr_held() -> Iterator[_Held]:
    """Hold back what native code writes to file descriptor 2; pass it on unless told not to."""
    sys.stderr.flush()
    held, saved = _Held(), os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield held
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if held.pass_on:
                capture.seek(0)
                os.write(2, capture.read())
