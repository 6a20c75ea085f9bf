# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Repeated timing with warm-up: medians and 95th percentiles in milliseconds."""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import torch


def summarise(seconds: list[float]) -> dict[str, float]:
    """Median and 95th percentile (ms) of per-run times in seconds."""
    values = np.array(seconds) * 1000.0
    return {'median_ms': float(np.median(values)), 'p95_ms': float(np.percentile(values, 95)),
            'runs': len(values)}


def time_call(function: Callable[[], object], repeats: int, warmup: int = 2,
              cuda: bool = False) -> dict[str, float]:
    """Time ``function`` ``repeats`` times after ``warmup`` calls; CUDA work is synchronised."""
    for _ in range(warmup):
        function()
    seconds = []
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize()
        started = time.perf_counter()
        function()
        if cuda:
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - started)
    return summarise(seconds)
