# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Draw example synthetic frames (image | labels | depth) to docs/images/synthetic_examples.jpg.

Usage: python bench/synthetic_examples.py [--seeds 0 1 2 3] [--output PATH]
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
    parser.add_argument('--output', type=Path,
                        default=Path('docs/images/synthetic_examples.jpg'))
    args = parser.parse_args()
    rows = []
    for seed in args.seeds:
        frame = render_frame(seed)
        rows.append(mosaic(frame.rgb, colourise_labels(frame.labels, CLASS_SET.palette),
                           colourise_depth(frame.depth, (2.0, 80.0))))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.output), np.concatenate(rows)[:, :, ::-1],
                [cv2.IMWRITE_JPEG_QUALITY, 90])


if __name__ == '__main__':
    main()
