# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Time distillation on this machine: teacher inference and student training per 1,000 frames.

Teachers are built with the published architectures' sizes and processors (SegFormer-B0 at
512x512 and 1024x1024, Depth Anything V2 Small at 518 px) and random weights: no weights can be
downloaded here, and the time of a forward pass does not depend on the weights' values. The
student is this project's network, trained as ``config/train_distilled.yaml`` trains it
(384x192 crops, batch 8). Frames are 640x192 street frames. Prints a Markdown table.

Usage: python bench/distill_speed.py [--frames N] [--steps N] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import platform
import time

from mtl_perception.model import build_model
from mtl_perception.synthetic import render_frame
import numpy as np
import torch
import transformers
from transformers import (
    DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config, DPTImageProcessor,
    SegformerConfig, SegformerForSemanticSegmentation, SegformerImageProcessor
)


def segformer_b0(side: int) -> tuple[torch.nn.Module, object]:
    """SegFormer-B0 (3.7 M parameters) with the processor size of its released models."""
    config = SegformerConfig(hidden_sizes=[32, 64, 160, 256], decoder_hidden_size=256,
                             depths=[2, 2, 2, 2], num_labels=19)
    processor = SegformerImageProcessor(size={'height': side, 'width': side})
    return SegformerForSemanticSegmentation(config).eval(), processor


def depth_anything_v2_small() -> tuple[torch.nn.Module, object]:
    """Depth Anything V2 Small (24.8 M parameters) and its processor (518 px, keep aspect)."""
    backbone = Dinov2Config(hidden_size=384, num_hidden_layers=12, num_attention_heads=6,
                            image_size=518, patch_size=14,
                            out_indices=[3, 6, 9, 12], reshape_hidden_states=False,
                            apply_layernorm=True)
    config = DepthAnythingConfig(backbone_config=backbone, neck_hidden_sizes=[48, 96, 192, 384],
                                 fusion_hidden_size=64, head_hidden_size=32,
                                 reassemble_hidden_size=384)
    processor = DPTImageProcessor(size={'height': 518, 'width': 518}, keep_aspect_ratio=True,
                                  ensure_multiple_of=14, do_pad=False)
    return DepthAnythingForDepthEstimation(config).eval(), processor


@torch.inference_mode()
def teacher_seconds(model: torch.nn.Module, processor: object, frames: list[np.ndarray],
                    device: torch.device, batch: int) -> float:
    """Median seconds per frame over batches of ``batch`` frames (after one warm-up batch)."""
    model.to(device)
    times = []
    for start in range(0, len(frames), batch):
        began = time.perf_counter()
        inputs = processor(images=frames[start:start + batch], return_tensors='pt')
        model(pixel_values=inputs['pixel_values'].to(device))
        if device.type == 'cuda':
            torch.cuda.synchronize()
        times.append((time.perf_counter() - began) / len(frames[start:start + batch]))
    return float(np.median(times[1:] if len(times) > 1 else times))


def student_seconds(steps: int, device: torch.device) -> float:
    """Median seconds per training step (batch 8 of 384x192, as train_distilled.yaml)."""
    model = build_model('mbv2_lwrefinenet', num_classes=19).to(
        device, memory_format=torch.channels_last).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    images = torch.randn(8, 3, 192, 384, device=device).contiguous(
        memory_format=torch.channels_last)
    labels = torch.randint(0, 19, (8, 48, 96), device=device)
    times = []
    for _ in range(steps + 1):
        began = time.perf_counter()
        outputs = model(images)
        loss = (torch.nn.functional.cross_entropy(outputs['segmentation'], labels)
                + outputs['depth'].mean())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if device.type == 'cuda':
            torch.cuda.synchronize()
        times.append(time.perf_counter() - began)
    return float(np.median(times[1:]))


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--frames', type=int, default=9, help='frames per teacher')
    parser.add_argument('--steps', type=int, default=5, help='student training steps')
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()
    transformers.utils.logging.set_verbosity_error()
    torch.manual_seed(0)
    device = torch.device(args.device)
    frames = [render_frame(1_000_000 + i).rgb for i in range(args.frames)]
    rows = []
    for name, (model, processor), batch in (
            ('SegFormer-B0, 512x512 (ADE20K models)', segformer_b0(512), 4),
            ('SegFormer-B0, 1024x1024 (Cityscapes models)', segformer_b0(1024), 2),
            ('Depth Anything V2 Small, 518 px, aspect kept', depth_anything_v2_small(), 2)):
        seconds = teacher_seconds(model, processor, frames, device, batch)
        rows.append((name, seconds))
    step = student_seconds(args.steps, device)
    threads = torch.get_num_threads() if device.type == 'cpu' else device
    print(f'{platform.processor() or platform.machine()}, {threads} threads, torch '
          f'{torch.__version__}, transformers {transformers.__version__}\n')
    print('| work | per frame | per 1,000 frames |\n| --- | ---: | ---: |')
    for name, seconds in rows:
        print(f'| teacher: {name} | {seconds * 1000:.0f} ms | {seconds * 1000 / 60:.1f} min |')
    print(f'| student training step (batch 8, 384x192) | {step / 8 * 1000:.0f} ms | '
          f'{step / 8 * 1000 * 1000 / 60000:.1f} min per epoch |')


if __name__ == '__main__':
    main()
