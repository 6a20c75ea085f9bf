# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Time the synthetic street renderer and write the figures into docs/synthetic.md.

Usage: python bench/synthetic_render.py [--frames N] [--doc docs/synthetic.md]
Renders distinct seeds (after one warm-up frame) at each size and thread count and reports the
median and 95th percentile per frame. The table between the ``render-speed`` markers of the
document is replaced; the rest is kept.
"""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path
import platform
import re
import time

from mtl_perception.synthetic import render_frame
import numpy as np
import torch

SIZES = ((192, 640, 'default (KITTI field of view), network input'), (96, 320, 'small'),
         (375, 1242, 'KITTI raw size'))
BEGIN, END = '<!-- render-speed:begin -->', '<!-- render-speed:end -->'


def _cpu_name() -> str:
    for line in Path('/proc/cpuinfo').read_text().splitlines():
        if line.startswith('model name'):
            return line.split(':', 1)[1].strip()
    return platform.processor() or 'unknown CPU'


def time_renders(height: int, width: int, frames: int) -> np.ndarray:
    """Seconds per frame for ``frames`` distinct seeds after one warm-up render."""
    render_frame(0, width=width, height=height)
    seconds = []
    for seed in range(1, frames + 1):
        started = time.perf_counter()
        render_frame(seed, width=width, height=height)
        seconds.append(time.perf_counter() - started)
    return np.array(seconds)


def speed_table(frames: int) -> str:
    """Return the Markdown report of render times."""
    threads = sorted({1, torch.get_num_threads()})
    lines = [f'Measured by `bench/synthetic_render.py` on {datetime.date.today()}: '
             f'{_cpu_name()}, {torch.get_num_threads()} torch threads available, torch '
             f'{torch.__version__}, {frames} frames per row after a warm-up frame.', '',
             '| size | purpose | torch threads | median ms/frame | p95 ms/frame | frames/s |',
             '| --- | --- | --- | --- | --- | --- |']
    for count in threads:
        torch.set_num_threads(count)
        for height, width, purpose in SIZES:
            seconds = time_renders(height, width, frames) * 1000
            median = float(np.median(seconds))
            lines.append(f'| {width}x{height} | {purpose} | {count} | {median:.0f} | '
                         f'{np.percentile(seconds, 95):.0f} | {1000 / median:.1f} |')
    return '\n'.join(lines)


def main() -> None:
    """Measure and update the document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--frames', type=int, default=20, help='frames per row (default 20)')
    parser.add_argument('--doc', type=Path, default=Path('docs/synthetic.md'))
    args = parser.parse_args()
    table = speed_table(args.frames)
    text = args.doc.read_text()
    pattern = re.compile(re.escape(BEGIN) + '.*?' + re.escape(END), re.DOTALL)
    args.doc.write_text(pattern.sub(f'{BEGIN}\n{table}\n{END}', text))


if __name__ == '__main__':
    main()
