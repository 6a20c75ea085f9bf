# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""One frame of ``mtl_infer --video`` for docs/coming_from_the_seeds.md.

Renders a held-out synthetic drive in KITTI's raw layout, runs the documented command on its
image folder with the shipped default weights, and keeps the middle frame of the MP4.

Usage: python bench/infer_video_picture.py [--frames 20] [--seed 1000003] [--work DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path
import subprocess
import sys
import tempfile

import cv2
from mtl_perception.synthetic.kitti_layout import write_kitti_drive

ROOT = Path(__file__).resolve().parents[1]
PICTURE = ROOT / 'docs' / 'images' / 'infer_video_frame.jpg'


def main() -> None:
    """Render, run mtl_infer --video, write the picture."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--frames', type=int, default=20)
    parser.add_argument('--seed', type=int, default=1_000_003,
                        help='street seed (held out from training: 1000000 and above)')
    parser.add_argument('--work', type=Path, help='keep the drive and outputs here')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        work = args.work or Path(temporary)
        drive = write_kitti_drive(work / 'kitti', seed=args.seed, frames=args.frames,
                                  cameras=(2,), sensors=False, progress=False)
        images = drive / 'image_02' / 'data'
        subprocess.run([sys.executable, '-m', 'mtl_perception', 'mtl_infer', str(images),
                        '--video', '--no-frames', '--output', str(work / 'out')], check=True)
        capture = cv2.VideoCapture(str(work / 'out' / 'data.mp4'))
        capture.set(cv2.CAP_PROP_POS_FRAMES, args.frames // 2)
        ok, frame = capture.read()
        capture.release()
    if not ok:
        sys.exit('mtl_infer wrote no readable video')
    PICTURE.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(PICTURE), frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
    print(f'wrote {PICTURE}')


if __name__ == '__main__':
    main()
