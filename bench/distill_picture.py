# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Teacher vs student on one frame, made with the documented commands (docs/your_robot.md).

No foundation-model weights can be downloaded here, so the teacher is the shipped checkpoint
(a teacher of both tasks, as ``mtl_distill`` accepts); the student starts from random weights
and learns only from the teacher's pseudo-labels on unlabeled frames (synthetic streets the
teacher never trained on). Writes docs/images/teacher_vs_student.jpg and prints the figures.

Usage: python bench/distill_picture.py [--frames 240] [--epochs 8] [--work DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path
import subprocess
import sys
import tempfile

import cv2
from mtl_perception.default_model import default_model_path
from mtl_perception.engines.torch_engine import Predictor
from mtl_perception.synthetic import render_frame
from mtl_perception.visualize import colourise_depth, colourise_labels, mosaic
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SIZE = (96, 320)
PICTURE = ROOT / 'docs' / 'images' / 'teacher_vs_student.jpg'


def _run(*command: str, cwd: Path) -> None:
    subprocess.run([sys.executable, '-m', *command], cwd=cwd, check=True)


def main() -> None:
    """Distil, train, compare on a frame neither saw; write the picture."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--frames', type=int, default=240)
    parser.add_argument('--epochs', type=int, default=8)
    parser.add_argument('--work', type=Path, help='working folder (default: a temporary one)')
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix='distill_picture_'))
    frames = work / 'robot_frames'
    frames.mkdir(parents=True, exist_ok=True)
    for index in range(args.frames):
        rgb = render_frame(1_100_000 + index, width=SIZE[1], height=SIZE[0]).rgb
        cv2.imwrite(str(frames / f'{index:05d}.png'), rgb[..., ::-1])
    teacher = str(default_model_path())
    _run('mtl_perception', 'mtl_distill', '--source', str(frames), '--teacher-segmentation',
         teacher, '--teacher-depth', teacher, '--classes', 'synthetic', '--output',
         'distilled', cwd=work)
    _run('mtl_perception', 'mtl_train', '--config', str(ROOT / 'config/train_distilled.yaml'),
         '--output', 'student', '--set', 'model.class_set=synthetic', '--set',
         'model.backbone_weights=null', '--set', 'model.init_checkpoint=null', '--set',
         f'data.input_size=[{SIZE[0]}, {SIZE[1]}]', '--set',
         f'data.base_size=[{SIZE[0]}, {SIZE[1]}]', '--set', 'data.crop_size=null',
         '--set', f'train.epochs={args.epochs}', '--set', 'train.encoder_lr_ratio=1.0',
         '--set', 'train.warmup_steps=50', cwd=work)
    image = render_frame(1_200_000, width=640, height=192).rgb  # neither distilled nor trained
    rows, agreement = [], []
    teacher_prediction = Predictor.from_checkpoint(teacher, device='cpu').predict(image)
    student_predictor = Predictor.from_checkpoint(work / 'student' / 'best.pt', device='cpu')
    student_prediction = student_predictor.predict(image)
    for prediction in (teacher_prediction, student_prediction):
        rows.append(mosaic(image, colourise_labels(prediction.labels, prediction.palette),
                           colourise_depth(prediction.depth, (0.5, 80.0))))
    agreement = (teacher_prediction.labels == student_prediction.labels).mean()
    picture = np.concatenate(rows, axis=0)
    cv2.imwrite(str(PICTURE), picture[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(f'{PICTURE}: top teacher, bottom student; labels agree on {agreement:.1%} of pixels; '
          f'student metrics on its distilled validation frames: '
          f'{student_predictor.metadata.metrics}')


if __name__ == '__main__':
    main()
