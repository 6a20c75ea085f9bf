# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The distillation loop: frames in batches through both teachers, pseudo-labels out.

Labels: the segmentation teacher's classes mapped onto the student's; pixels under
``min_confidence`` or of unmapped classes are 255. Depth: a metric teacher's metres as they
are; a relative teacher's output fitted per frame against LiDAR returns or the ground plane
(:mod:`.alignment`), the frame skipped (and counted) when the fit is poor. Depth is 0 on sky
and outside the depth range. Under ``torchrun`` rank r takes the selected frames whose
ordinal is r modulo the world size; every rank writes its own frames, rank 0 the manifest.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
import itertools
import math
from typing import Any

from mtl_perception.holds import hold_if_asked
from mtl_perception.labels import ClassSet, IGNORE_ID
from mtl_perception.training.distillation.alignment import (
    apply_fit, fit_inverse_depth, ground_anchors, GROUND_CLASSES, points_to_anchors
)
from mtl_perception.training.distillation.output import DistillOutput
from mtl_perception.training.distillation.sources import Frame
from mtl_perception.training.distributed import DistributedContext
from mtl_perception.training.teachers.base import DepthTeacher, SegmentationTeacher
from mtl_perception.training.teachers.class_maps import ClassMap
import numpy as np
from tqdm import tqdm


@dataclass(frozen=True)
class DepthOptions:
    """How pseudo-depth is made: range, confidence, anchors and the fit's tolerance."""

    depth_range: tuple[float, float] = (0.5, 80.0)
    min_confidence: float = 0.0
    camera_height: float | None = None
    camera_pitch: float = 0.0
    intrinsics: tuple[float, float, float, float] | None = None
    max_residual: float = 0.15


def _batches(frames: Iterator[Frame], size: int) -> Iterator[list[Frame]]:
    batch: list[Frame] = []
    for frame in frames:
        batch.append(frame)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class Distiller:
    """Turns frames into pseudo-labelled samples in ``output``."""

    def __init__(self, segmentation: SegmentationTeacher, depth: DepthTeacher,
                 class_map: ClassMap, student: ClassSet, options: DepthOptions,
                 output: DistillOutput) -> None:
        self.segmentation, self.depth, self.class_map = segmentation, depth, class_map
        self.options, self.output = options, output
        names = [name.lower() for name in student.names]
        self.sky = names.index('sky') if 'sky' in names else None
        self.ground = [names.index(n) for n in GROUND_CLASSES if n in names]
        self.written = 0

    def run(self, sources: list[Any], context: DistributedContext, *, batch_size: int = 4,
            total: int | None = None, progress: bool = True) -> None:
        """Distil every selected frame of ``sources`` that is this rank's and not done."""
        done = self.output.done()
        ordinal = itertools.count()

        def wanted(key: str) -> bool:
            mine = next(ordinal) % context.world_size == context.rank
            return mine and key not in done

        frames = (frame for source in sources for frame in source.frames(wanted))
        share = None if total is None else math.ceil(total / context.world_size)
        with tqdm(total=share, desc='distilling', unit='frame',
                  disable=not progress) as bar:
            for batch in _batches(frames, batch_size):
                self._distil(batch)
                bar.update(len(batch))

    def _distil(self, batch: list[Frame]) -> None:
        readable = [f for f in batch if f.rgb.size]
        for frame in batch:
            if not frame.rgb.size:
                self.output.skip(frame.key, self._record(frame), frame.problem)
        if not readable:
            return
        images = [frame.rgb for frame in readable]
        labels = self.segmentation.segment(images)
        depths = self.depth.estimate(images)
        for frame, teacher_labels, teacher_depth in zip(readable, labels, depths):
            ids = self.class_map.apply(teacher_labels.ids)
            ids[teacher_labels.confidence < self.options.min_confidence] = IGNORE_ID
            record = self._record(frame)
            depth, detail = self._metric_depth(frame, teacher_depth, ids)
            problem = detail.pop('problem', None)
            record.update(detail)
            if depth is None:
                self.output.skip(frame.key, record, problem)
                continue
            low, high = self.options.depth_range
            depth = np.where((depth >= low) & (depth <= high), depth, np.nan)
            if self.sky is not None:
                depth[ids == self.sky] = np.nan
            record.update(labelled=float((ids != IGNORE_ID).mean()),
                          with_depth=float(np.isfinite(depth).mean()))
            self.output.write(frame.key, frame.rgb, ids.astype(np.uint8), depth, record)
            self.written += 1
            hold_if_asked(f'frame {self.written}')

    def _metric_depth(self, frame: Frame, teacher: Any,
                      ids: np.ndarray) -> tuple[np.ndarray | None, dict[str, Any]]:
        """Metres for the frame, and what the manifest says of how they were made."""
        if teacher.metric:
            return teacher.values, {'anchor': 'none (metric teacher)'}
        anchors = self._anchors(frame, ids)
        if anchors is None:
            return None, {'anchor': 'none', 'problem': 'no depth anchors'}
        fit = fit_inverse_depth(teacher.values, anchors)
        detail = {'anchor': anchors.kind, 'fit': None if fit is None else fit.to_dict()}
        if fit is None:
            return None, {**detail, 'problem': 'too few depth anchors'}
        if fit.scale <= 0 or fit.residual > self.options.max_residual:
            return None, {**detail, 'problem': 'poor depth fit'}
        return apply_fit(teacher.values, fit), detail

    def _anchors(self, frame: Frame, ids: np.ndarray) -> Any:
        intrinsics = frame.intrinsics or self.options.intrinsics
        if frame.points is not None and intrinsics is not None:
            return points_to_anchors(frame.points, intrinsics, ids.shape,
                                     self.options.depth_range)
        if self.options.camera_height and intrinsics is not None and self.ground:
            return ground_anchors(np.isin(ids, self.ground), intrinsics,
                                  self.options.camera_height,
                                  math.radians(self.options.camera_pitch),
                                  self.options.depth_range)
        return None

    @staticmethod
    def _record(frame: Frame) -> dict[str, Any]:
        return {'source': frame.source, 'stream': frame.stream, 'index': frame.index,
                'stamp_ns': frame.stamp_ns, 'size': list(frame.rgb.shape[:2])}
