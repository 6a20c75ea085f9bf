# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Named points where a process can be held, so that tests signal or kill it exactly there.

A test that kills a run at a fraction of its duration depends on the machine's speed; one
that sets ``MTL_HOLD_AT`` to a point (``step 3``, ``publish 2``, ``shutdown``), waits for the
``holding at ...`` line and then sends its signal does not. A held process waits until its
stop flag is set (:mod:`mtl_perception.process_signals`): a ROS process then goes on from
the point and shuts down in order, an offline tool's signal raises where it waits; SIGKILL
ends either. Unset, a hold point costs one environment lookup.
"""

from __future__ import annotations

import os
import sys
import threading

from mtl_perception.process_signals import stop_flag

HOLD_ENV = 'MTL_HOLD_AT'


def hold_if_asked(point: str, until: threading.Event | None = None) -> None:
    """Wait at ``point`` when ``$MTL_HOLD_AT`` names it, until ``until`` (the stop flag) is set.

    Args:
        point: This point's name, e.g. ``publish 3``.
        until: The event that ends the hold; default: the process's stop flag (never set
            where no handler is installed, e.g. in a test process: the test kills it).
    """
    if os.environ.get(HOLD_ENV) == point:
        sys.stderr.write(f'holding at {point}\n')
        sys.stderr.flush()
        (until if until is not None else stop_flag()).wait()
