# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Segmentation teachers from ``transformers``: SegFormer, UperNet, BEiT, DPT, Mask2Former.

Per-pixel models (an output with ``logits``) are upsampled bilinearly to each frame's size, as
``post_process_semantic_segmentation`` does, then the argmax and its softmax probability are
taken. Query-based models (Mask2Former, OneFormer: ``class_queries_logits`` and
``masks_queries_logits``) combine class probabilities with mask probabilities per pixel, as
their post-processing does; the confidence is the winning class's share of that score.
(OneFormer needs a task prompt and is not supported.)
"""

from __future__ import annotations

from typing import Any

from mtl_perception.training.teachers.base import TeacherLabels
from mtl_perception.training.teachers.hf_loading import load_pretrained
import numpy as np
import torch
from torch.nn import functional as F

#: Mask2Former's post-processing scales the query masks to this size before combining them.
QUERY_MASK_SIZE = (384, 384)


class HfSegmentationTeacher:
    """A ``transformers`` semantic segmentation model with its image processor.

    Args:
        spec: Local model folder or hub id.
        device: Where the model runs.
        half: Float16 (CUDA only).
    """

    def __init__(self, spec: str, device: torch.device, *, half: bool = False) -> None:
        self.model, self.processor, self._description = load_pretrained(
            spec, ('AutoModelForSemanticSegmentation', 'AutoModelForUniversalSegmentation'),
            '--teacher-segmentation', labelled=True)
        self.device, self.dtype = device, torch.float16 if half else torch.float32
        self.model.to(device, self.dtype)
        labels = self.model.config.id2label
        self.class_names = [labels[index] for index in sorted(labels)]

    def describe(self) -> dict[str, Any]:
        """Return the source, family and content hash, for the manifest."""
        return {**self._description, 'family': 'transformers segmentation',
                'classes': len(self.class_names)}

    @torch.inference_mode()
    def segment(self, frames: list[np.ndarray]) -> list[TeacherLabels]:
        """Segment frames (one batch through the processor); results at each frame's size."""
        inputs = self.processor(images=list(frames), return_tensors='pt')
        pixels = inputs['pixel_values'].to(self.device, self.dtype)
        outputs = self.model(pixel_values=pixels)
        return [self._labels(outputs, index, frame.shape[:2])
                for index, frame in enumerate(frames)]

    def _labels(self, outputs: Any, index: int, size: tuple[int, int]) -> TeacherLabels:
        if getattr(outputs, 'logits', None) is not None:
            logits = F.interpolate(outputs.logits[index:index + 1].float(), size=size,
                                   mode='bilinear', align_corners=False)[0]
            probabilities = logits.softmax(0)
        else:
            classes = outputs.class_queries_logits[index].float().softmax(-1)[:, :-1]
            masks = F.interpolate(outputs.masks_queries_logits[index:index + 1].float(),
                                  size=QUERY_MASK_SIZE, mode='bilinear',
                                  align_corners=False)[0].sigmoid()
            scores = F.interpolate(torch.einsum('qc,qhw->chw', classes, masks)[None],
                                   size=size, mode='bilinear', align_corners=False)[0]
            probabilities = scores / scores.sum(0, keepdim=True).clamp(min=1e-12)
        confidence, ids = probabilities.max(0)
        return TeacherLabels(ids=ids.cpu().numpy().astype(np.int64),
                             confidence=confidence.clamp(0, 1).cpu().numpy().astype(np.float32))
