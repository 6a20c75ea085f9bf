# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""A one-frame mailbox between the subscription callback and the inference thread.

The callback never blocks: it overwrites the slot, and a frame that was still waiting is
dropped and counted. The worker always takes the newest frame, so latency cannot build up
when frames arrive faster than the network runs.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

Item = TypeVar('Item')


class LatestFrameSlot(Generic[Item]):
    """Holds at most one item; ``put`` replaces, ``take`` waits for one."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._item: Item | None = None
        self._closed = False
        self.received = 0
        self.dropped = 0

    def put(self, item: Item) -> None:
        """Store ``item``, dropping (and counting) an unprocessed previous one."""
        with self._condition:
            self.received += 1
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self._condition.notify()

    def take(self, timeout: float | None = None) -> Item | None:
        """Return the newest item, waiting up to ``timeout``; ``None`` on timeout or close."""
        with self._condition:
            self._condition.wait_for(lambda: self._item is not None or self._closed, timeout)
            item, self._item = self._item, None
            return None if self._closed else item

    def discard(self) -> None:
        """Forget a waiting item without counting it (the node stops taking frames)."""
        with self._condition:
            self._item = None

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """Wake every waiting ``take`` and make it return ``None`` from now on."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()
