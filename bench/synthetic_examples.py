# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Draw example synthetic frames for docs/synthetic.md: ground truth and the renderer's variety.

Usage: python bench/synthetic_examples.py [--seeds 0 1 2 3] [--variety 12] [--output-dir DIR]
Writes ``synthetic_examples.jpg`` (image | labels | depth, one seed per row) and
``synthetic_variety.jpg`` (the images of the first ``--variety`` seeds, three per row).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
from mtl_perception.synthetic import CLASS_SET, render_frame
from mtl_perception.visualize import colourise_depth, colourise_labels, mosaic
import numpy as np


def main() -> None:
    """Render the seeds and write one picture, one frame per row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2, 3])
    parser.add_argument('--variety', type=int, default=12,
                        help='seeds in the variety picture (a multiple of 3)')
    parser.add_argument('--output-dir', type=Path, default=Path('docs/images'))
    args = parser.parse_args()
    rows = []
    for seed in args.seeds:
        frame = render_frame(seed)
        rows.append(mosaic(frame.rgb, colourise_labels(frame.labels, CLASS_SET.palette),
                           colourise_depth(frame.depth, (0.5, 80.0))))
    args.output_dir.mkdir(parents=True, exist_ok=True)
    _write(args.output_dir / 'synthetic_examples.jpg', np.concatenate(rows))
    images = [render_frame(seed).rgb for seed in range(args.variety)]
    grid = [np.concatenate(images[i:i + 3], axis=1) for i in range(0, len(images), 3)]
    _write(args.output_dir / 'synthetic_variety.jpg', np.concatenate(grid))


def _write(path: Path, rgb: np.ndarray) -> None:
    cv2.imwrite(str(path), rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 88])


if __name__ == '__main__':
    main()
