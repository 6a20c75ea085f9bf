# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""A newest-frame mailbox per camera between the subscription callbacks and the serving loop.

A callback never blocks: it overwrites its camera's slot, and a frame of that camera that was
still waiting is dropped and counted. The worker takes the newest frame of every camera that
has one, all at once, so latency cannot build up when frames arrive faster than the network
runs, frames of several cameras can share one forward pass, and a camera that stops sending
holds nobody up.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

Item = TypeVar('Item')


class LatestFrames(Generic[Item]):
    """Holds at most one item per camera; ``put`` replaces, ``take`` waits for any."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._waiting: dict[str, Item] = {}
        self._closed = False
        self._received: dict[str, int] = {}
        self._dropped: dict[str, int] = {}
        self._senders: set[str] = set()  # cameras that sent since the last discard

    def put(self, camera: str, item: Item) -> None:
        """Store ``camera``'s ``item``, dropping (and counting) its unprocessed previous one."""
        with self._condition:
            self._received[camera] = self._received.get(camera, 0) + 1
            self._senders.add(camera)
            if camera in self._waiting:
                self._dropped[camera] = self._dropped.get(camera, 0) + 1
            self._waiting[camera] = item
            self._condition.notify()

    def take(self, timeout: float | None = None, gather: float = 0.0) -> dict[str, Item]:
        """Return the newest item of each camera that has one, waiting up to ``timeout``.

        Once one item is there, wait up to ``gather`` seconds more for the other cameras that
        sent since the last :meth:`discard` (not for one that never did), so frames of
        cameras that fire together share a pass; returns as soon as all of them have one.
        Empty on timeout or after :meth:`close`.
        """
        with self._condition:
            self._condition.wait_for(lambda: self._waiting or self._closed, timeout)
            if self._waiting and gather > 0:
                self._condition.wait_for(
                    lambda: self._closed or len(self._waiting) == len(self._senders), gather)
            items, self._waiting = self._waiting, {}
            return {} if self._closed else items

    def received(self, camera: str) -> int:
        """Frames ``camera`` delivered so far."""
        with self._condition:
            return self._received.get(camera, 0)

    def dropped(self, camera: str) -> int:
        """Frames of ``camera`` replaced by a newer one before the worker took them."""
        with self._condition:
            return self._dropped.get(camera, 0)

    def discard(self) -> None:
        """Forget waiting items without counting them (the node stops taking frames)."""
        with self._condition:
            self._waiting = {}
            self._senders = set()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """Wake every waiting ``take`` and make it return nothing from now on."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()
