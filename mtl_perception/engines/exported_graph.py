# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""What the engines that run an exported graph share: its metadata, its size rule, its range.

An exported graph (ONNX from ``mtl_export_onnx``, or its INT8 OpenVINO form) carries the
checkpoint's metadata and an export record, takes ``NxHxWx3`` uint8 frames (of one size unless
exported with a dynamic size) and masks depth outside the model's range itself; a narrower
range is applied here, after the run.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
import json
from pathlib import Path
from typing import Any

from mtl_perception.checkpoint import ModelMetadata, parse_metadata
from mtl_perception.engines.contract import (
    BatchPrediction, check_batch, check_image, DevicePrediction, EngineBase, mark_out_of_range,
    mask_normals
)
from mtl_perception.engines.onnx_export import EXPORT_FORMAT, EXPORT_KEY, MAX_BATCH, METADATA_KEY
from mtl_perception.errors import CheckpointError, EngineError, InputImageError, ModelConfigError
import numpy as np
import torch


def read_graph_metadata(properties: dict[str, str],
                        source: str) -> tuple[ModelMetadata, dict[str, Any]]:
    """Read the metadata and export record stored in an exported graph.

    Raises:
        EngineError: The graph was not exported by this package, its metadata is bad, or its
            export format is not the one this version reads.
    """
    if METADATA_KEY not in properties or EXPORT_KEY not in properties:
        raise EngineError(f'{source}: not an mtl_perception graph (no {METADATA_KEY!r} '
                          'metadata); export one with mtl_export_onnx')
    try:
        raw = json.loads(properties[METADATA_KEY])
        record = json.loads(properties[EXPORT_KEY])
        metadata = parse_metadata(raw, Path(source))
    except (ValueError, CheckpointError) as error:
        raise EngineError(f'{source}: unreadable mtl_perception metadata: {error}') from None
    if record.get('format') != EXPORT_FORMAT:
        raise EngineError(f'{source}: export format {record.get("format")!r}; this '
                          f'mtl_perception reads format {EXPORT_FORMAT} (re-export it with '
                          'mtl_export_onnx)')
    return metadata, record


class GraphEngineBase(EngineBase):
    """An engine whose graph does the pre- and post-processing; it owns ``record``."""

    record: dict[str, Any]

    def __init__(self, metadata: ModelMetadata, record: dict[str, Any]) -> None:
        super().__init__(metadata)
        self.record = record
        self.input_size = tuple(record['input_size'])
        self.resizes = metadata.resize_input

    def set_depth_range(self, low: float, high: float) -> None:
        """Narrow the valid depth range (metres); the graph already masks outside its own.

        Raises:
            ModelConfigError: Unless ``0 <= low < high`` within the exported range.
        """
        graph_low, graph_high = self.metadata.depth_range
        if not graph_low <= low < high <= graph_high:
            raise ModelConfigError(
                f"depth range ({low}, {high}) must lie within the exported graph's "
                f'({graph_low}, {graph_high}); re-export or use backend torch to widen it')
        super().set_depth_range(low, high)

    def infer(self, image: np.ndarray, *, bgr: bool = False) -> DevicePrediction:
        """Predict one frame; results as CPU tensors.

        Raises:
            InputImageError: Not an ``HxWx3`` uint8 image, or (for a fixed-size graph) not of
                the exported size.
        """
        check_image(image)
        return self._run(image[None], bgr)[0]

    def infer_batch(self, images: Sequence[np.ndarray], *,
                    bgr: bool = False) -> list[DevicePrediction]:
        """Predict frames of one size in one run of the graph's batch axis.

        Raises:
            InputImageError: No frames, a frame that is not ``HxWx3`` uint8, frames of
                different sizes, or (for a fixed-size graph) not of the exported size.
        """
        check_batch(images)
        return self._run(np.stack(images), bgr)

    @abc.abstractmethod
    def _run(self, frames: np.ndarray, bgr: bool) -> list[DevicePrediction]:
        """Run the graph on checked ``NxHxWx3`` frames; one prediction per frame."""

    def graph_input(self, frames: np.ndarray, bgr: bool) -> np.ndarray:
        """Return checked ``NxHxWx3`` frames as the graph takes them (RGB, contiguous).

        Raises:
            InputImageError: Too many frames, or (for a fixed-size graph) not of its size.
        """
        if len(frames) > MAX_BATCH:
            raise InputImageError(f'at most {MAX_BATCH} frames per pass, got {len(frames)}')
        if not self.record['dynamic_size'] and tuple(frames.shape[1:3]) != self.input_size:
            raise InputImageError(
                f'this graph takes {self.input_size[1]}x{self.input_size[0]} frames only, got '
                f'{frames.shape[2]}x{frames.shape[1]}; export with --dynamic-size')
        return np.ascontiguousarray(frames[..., ::-1] if bgr else frames)

    def predictions(self, labels: np.ndarray, depth: np.ndarray,
                    normals: np.ndarray | None) -> list[DevicePrediction]:
        """Turn the graph's outputs into one prediction per frame (no copies).

        The graph masked its own depth range; a narrower one set with
        :meth:`set_depth_range` is applied here.
        """
        depth_tensor = torch.from_numpy(depth)
        normals_tensor = torch.from_numpy(normals) if normals is not None else None
        if self.depth_range != self.metadata.depth_range:
            depth_tensor = mark_out_of_range(depth_tensor, *self.depth_range)
            if normals_tensor is not None:
                normals_tensor = mask_normals(normals_tensor, depth_tensor)
        return BatchPrediction(labels=torch.from_numpy(labels), depth=depth_tensor,
                               normals=normals_tensor).frames()
