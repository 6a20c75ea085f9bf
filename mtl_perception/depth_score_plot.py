# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""A picture of depth errors over a drive: where along it the network is good or poor."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use('Agg')
from matplotlib import pyplot  # noqa: E402  (the backend must be chosen first)
from mtl_perception.depth_scoring import DriveScorer  # noqa: E402


def plot_drive(scorer: DriveScorer, path: Path, title: str) -> None:
    """Abs rel, RMSE and delta1 per frame over time (metric and median-scaled) as a PNG."""
    frames = scorer.frames
    start = frames[0].stamp_ns
    seconds = [(frame.stamp_ns - start) * 1e-9 for frame in frames]
    figure, axes = pyplot.subplots(3, 1, figsize=(9, 6.5), sharex=True)
    for axis, name, label in zip(axes, ('abs_rel', 'rmse', 'delta1'),
                                 ('abs rel', 'RMSE (m)', 'delta < 1.25')):
        axis.plot(seconds, [f.metrics[name] for f in frames], label='metric', color='tab:blue')
        axis.plot(seconds, [f.scaled[name] for f in frames], label='median-scaled',
                  color='tab:orange', linestyle='--')
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
    axes[0].legend(loc='upper right')
    axes[0].set_title(title)
    axes[-1].set_xlabel('seconds into the drive')
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
