# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Named points where a long run can be held, so that tests kill it exactly there.

A test that kills a run at a fraction of its duration depends on the machine's speed; one
that sets ``MTL_HOLD_AT`` to a point (``step 3``, ``last 2``, ``frame 2``), waits for the
``holding at ...`` line and then sends SIGKILL does not. Unset, a hold point costs one
environment lookup.
"""

from __future__ import annotations

import os
import sys
import threading

HOLD_ENV = 'MTL_HOLD_AT'


def hold_if_asked(point: str) -> None:
    """Block for good at ``point`` when ``$MTL_HOLD_AT`` names it (the test then kills us)."""
    if os.environ.get(HOLD_ENV) == point:
        sys.stderr.write(f'holding at {point}\n')
        sys.stderr.flush()
        threading.Event().wait()
