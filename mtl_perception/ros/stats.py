# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Rolling statistics of processed frames: rate, latency percentiles, time per stage."""

from __future__ import annotations

from collections import deque
import threading
import time

import numpy as np


class FrameStats:
    """Latencies and completion times of the last ``window`` frames (thread-safe)."""

    def __init__(self, window: int = 300) -> None:
        self._lock = threading.Lock()
        self._latencies: deque[float] = deque(maxlen=window)
        self._finished: deque[float] = deque(maxlen=window)
        self._stages: dict[str, deque[float]] = {}
        self._pass_sizes: deque[int] = deque(maxlen=window)
        self._window = window
        self.processed = 0
        self.skipped_bad = 0
        self.skipped_unsubscribed = 0

    def record(self, latency: float | None, now: float | None = None,
               stages: dict[str, float] | None = None, frames_in_pass: int = 1) -> None:
        """Add one published frame: its latency (None: not measurable), stages, pass size."""
        with self._lock:
            self.processed += 1
            self._pass_sizes.append(frames_in_pass)
            if latency is not None:
                self._latencies.append(latency)
            self._finished.append(time.monotonic() if now is None else now)
            for name, seconds in (stages or {}).items():
                self._stages.setdefault(name, deque(maxlen=self._window)).append(seconds)

    def stage_medians(self) -> dict[str, float]:
        """Median milliseconds of each recorded stage."""
        with self._lock:
            return {name: float(np.median(values)) * 1000.0
                    for name, values in self._stages.items()}

    def mean_pass_size(self) -> float:
        """Mean number of frames in the forward passes of the recent frames (NaN before any)."""
        with self._lock:
            return float(np.mean(self._pass_sizes)) if self._pass_sizes else float('nan')

    def rate(self, now: float | None = None, horizon: float = 5.0) -> float:
        """Frames per second over the last ``horizon`` seconds."""
        now = time.monotonic() if now is None else now
        with self._lock:
            recent = [t for t in self._finished if now - t <= horizon]
        if len(recent) < 2:
            return 0.0
        span = max(now - recent[0], 1e-9)
        return len(recent) / span

    def latency_percentiles(self) -> dict[str, float]:
        """``p50``, ``p95`` and ``max`` latency in milliseconds (NaN before any frame)."""
        with self._lock:
            values = np.array(self._latencies, dtype=np.float64) * 1000.0
        if not len(values):
            return {'p50': float('nan'), 'p95': float('nan'), 'max': float('nan')}
        return {'p50': float(np.percentile(values, 50)),
                'p95': float(np.percentile(values, 95)), 'max': float(values.max())}
