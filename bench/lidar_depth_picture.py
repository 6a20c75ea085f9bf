# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Depth against the LiDAR over a drive, as pictures for docs/bags_and_demo.md.

Renders a held-out synthetic drive with its simulated LiDAR in KITTI's raw layout, converts
it with mtl_kitti_to_bag, scores the shipped default weights with ``mtl_process_bag
--lidar-topic`` and keeps its plot over time; draws one frame with the LiDAR returns over the
image beside the predicted depth, both in the node's depth colours.

Usage: python bench/lidar_depth_picture.py [--frames 40] [--seed 1000005] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import shutil
import subprocess
import sys
import tempfile

import cv2
from mtl_perception.default_model import default_model_path
from mtl_perception.engines.torch_engine import Predictor
from mtl_perception.synthetic.kitti_layout import write_kitti_drive
from mtl_perception.training.datasets.kitti_lidar import KittiLidarDepthDataset
from mtl_perception.visualize import colourise_depth
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PLOT = ROOT / 'docs' / 'images' / 'lidar_depth_over_drive.png'
FRAME = ROOT / 'docs' / 'images' / 'lidar_vs_predicted.jpg'


def _frame_picture(drive: Path, index: int) -> np.ndarray:
    """Image with the LiDAR returns dotted on it (top), predicted depth (bottom)."""
    sample = KittiLidarDepthDataset(drive)[index]
    rgb = sample['image'].permute(1, 2, 0).numpy().copy()
    lidar = sample['depth'].numpy()
    predictor = Predictor.from_checkpoint(default_model_path(), device='cpu')
    depth_range = predictor.metadata.depth_range
    predicted = colourise_depth(predictor.predict(rgb).depth, depth_range)
    dots = colourise_depth(np.where(lidar > 0, lidar, np.nan), depth_range)
    hit = lidar > 0
    hit = cv2.dilate(hit.astype(np.uint8), np.ones((2, 2), np.uint8)).astype(bool)
    spread = cv2.dilate(dots, np.ones((2, 2), np.uint8))
    overlay = rgb // 2
    overlay[hit] = spread[hit]
    return np.vstack([overlay, predicted])[:, :, ::-1]


def main() -> None:
    """Render, convert, score, draw."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--frames', type=int, default=40)
    parser.add_argument('--seed', type=int, default=1_000_005,
                        help='street seed (held out from training: 1000000 and above)')
    parser.add_argument('--work', type=Path, help='keep the drive, bags and outputs here')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        work = args.work or Path(temporary)
        drive = write_kitti_drive(work / 'kitti', seed=args.seed, frames=args.frames,
                                  cameras=(2,))
        subprocess.run([sys.executable, '-m', 'mtl_perception', 'mtl_kitti_to_bag', str(drive),
                        str(work / 'bag'), '--depth-root', str(work / 'kitti' / 'depth')],
                       check=True)
        subprocess.run([sys.executable, '-m', 'mtl_perception', 'mtl_process_bag',
                        str(work / 'bag'), str(work / 'out'), '--lidar-topic',
                        '/kitti/velo/pointcloud', '--no-progress'], check=True,
                       stdout=subprocess.DEVNULL)
        PLOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(work / 'out' / 'lidar_depth.png', PLOT)
        summary = json.loads((work / 'out' / 'metrics.json').read_text())
        cv2.imwrite(str(FRAME), _frame_picture(drive, args.frames // 2),
                    [cv2.IMWRITE_JPEG_QUALITY, 90])
    lidar, dense = summary['lidar'], summary['metrics']
    print(f'wrote {PLOT} and {FRAME}')
    print(f"against the LiDAR: abs rel {lidar['metrics']['abs_rel']:.3f}, delta1 "
          f"{lidar['metrics']['delta1']:.3f}, RMSE {lidar['metrics']['rmse']:.2f} m over "
          f"{lidar['pixels']} returns in {lidar['frames']} frames; median-scaled abs rel "
          f"{lidar['median_scaled']['abs_rel']:.3f} (scale {lidar['median_scale']['median']:.3f})")
    print(f"against the dense ground truth: abs rel {dense['abs_rel']:.3f}, delta1 "
          f"{dense['delta1']:.3f}, RMSE {dense['rmse']:.2f} m")


if __name__ == '__main__':
    main()
