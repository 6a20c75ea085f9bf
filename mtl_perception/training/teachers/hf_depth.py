# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Depth teachers from ``transformers``: Depth Anything (V2), DPT, ZoeDepth, Depth Pro...

A model is metric when its configuration says so (``depth_estimation_type: metric``, as
Depth Anything V2 Metric has it; ZoeDepth and Depth Pro always are) or when the user says so;
otherwise its output is relative inverse depth, to be aligned per frame. Frames are resized by
the model's own processor and the output is mapped back to each frame's size by the
processor's ``post_process_depth_estimation`` (so the pseudo-depth is exactly what the
teacher's own pipeline gives); frames of different sizes go through in separate batches.
"""

from __future__ import annotations

from typing import Any

from mtl_perception.training.teachers.base import TeacherDepth
from mtl_perception.training.teachers.hf_loading import load_pretrained
import numpy as np
import torch

ALWAYS_METRIC = frozenset({'zoedepth', 'depth_pro'})


class HfDepthTeacher:
    """A ``transformers`` depth estimation model with its image processor.

    Args:
        spec: Local model folder or hub id.
        device: Where the model runs.
        half: Float16 (CUDA only).
        metric: Override the configuration's word on metric output (None: trust it).
    """

    def __init__(self, spec: str, device: torch.device, *, half: bool = False,
                 metric: bool | None = None) -> None:
        self.model, self.processor, self._description = load_pretrained(
            spec, ('AutoModelForDepthEstimation',), '--teacher-depth')
        self.device, self.dtype = device, torch.float16 if half else torch.float32
        self.model.to(device, self.dtype)
        config = self.model.config
        said = (getattr(config, 'depth_estimation_type', None) == 'metric'
                or config.model_type in ALWAYS_METRIC)
        self.metric = said if metric is None else metric

    def describe(self) -> dict[str, Any]:
        """Return the source, family, content hash and output kind, for the manifest."""
        return {**self._description, 'family': 'transformers depth',
                'output': 'metric depth' if self.metric else 'relative inverse depth'}

    @torch.inference_mode()
    def estimate(self, frames: list[np.ndarray]) -> list[TeacherDepth]:
        """Estimate depth of frames, batched per frame size; results at each frame's size."""
        results: list[TeacherDepth | None] = [None] * len(frames)
        sizes = sorted({frame.shape[:2] for frame in frames})
        for size in sizes:
            members = [i for i, frame in enumerate(frames) if frame.shape[:2] == size]
            inputs = self.processor(images=[frames[i] for i in members], return_tensors='pt')
            outputs = self.model(pixel_values=inputs['pixel_values'].to(self.device,
                                                                        self.dtype))
            outputs.predicted_depth = outputs.predicted_depth.float()
            maps = self.processor.post_process_depth_estimation(
                outputs, target_sizes=[size] * len(members))
            for index, result in zip(members, maps):
                values = result['predicted_depth'].reshape(size).cpu().numpy()
                results[index] = TeacherDepth(values.astype(np.float32), self.metric)
        return results
