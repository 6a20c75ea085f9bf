# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Frames to calibrate an INT8 graph on, split into calibration and held-out frames.

INT8 ranges are measured on frames of the model's own domain: for a checkpoint trained on
rendered streets, rendered frames of its own training seeds (held-out frames from seeds it
never saw); for any other, the user's frames (read by ``mtl_export_onnx --calibration``),
every ``HOLD_OUT_EVERY``-th of which is kept apart to check the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mtl_perception.checkpoint import ModelMetadata
from mtl_perception.engines.onnx_export import MAX_SIDE, MIN_SIDE
from mtl_perception.errors import InputImageError, ModelConfigError
from mtl_perception.synthetic import render_frame
import numpy as np

MIN_FRAMES = 8  # fewer cannot both calibrate and check
DEFAULT_FRAMES = 32  # calibration frames taken from a source (plus the held-out ones)
HOLD_OUT_EVERY = 4
HELD_OUT_SEED = 1_000_000  # rendered frames from here on were never trained on


@dataclass(frozen=True)
class CalibrationFrames:
    """``HxWx3`` uint8 RGB frames: ``calibration`` sets the ranges, ``held_out`` checks them."""

    calibration: list[np.ndarray]
    held_out: list[np.ndarray]
    source: str

    def describe(self) -> str:
        """One phrase for logs and the graph's record."""
        return (f'{len(self.calibration)} frames of {self.source} '
                f'({len(self.held_out)} more held out)')


def training_seeds(metadata: ModelMetadata) -> tuple[int, int] | None:
    """Return the rendered-street seeds ``[first, last)`` the weights trained on, if any."""
    config = (metadata.created_by or {}).get('config') or {}
    for source in (config.get('data') or {}).get('train') or []:
        seeds = source.get('seeds') if source.get('type') == 'synthetic' else None
        if isinstance(seeds, list) and len(seeds) == 2 and seeds[0] < seeds[1]:
            return int(seeds[0]), int(seeds[1])
    return None


def rendered_frames(metadata: ModelMetadata, name: str, size: tuple[int, int],
                    count: int = DEFAULT_FRAMES) -> CalibrationFrames:
    """Render ``count`` frames of the training seeds (evenly spread) and held-out ones.

    Raises:
        ModelConfigError: The weights were not trained on rendered streets; the message
            says to give calibration frames of their own domain.
    """
    seeds = training_seeds(metadata)
    if seeds is None:
        raise ModelConfigError(
            f'{name} was not trained on rendered streets, so INT8 cannot calibrate on its '
            'own domain by itself: export it with mtl_export_onnx --precision int8 '
            '--calibration SRC (a folder, video or rosbag2 of frames of your camera) and run '
            'the .xml it writes')
    height, width = size
    first, last = seeds
    chosen = np.linspace(first, last - 1, count).round().astype(int)
    held = max(MIN_FRAMES // 2, count // HOLD_OUT_EVERY)
    return CalibrationFrames(
        calibration=[render_frame(int(seed), width=width, height=height).rgb for seed in chosen],
        held_out=[render_frame(HELD_OUT_SEED + index, width=width, height=height).rgb
                  for index in range(held)],
        source=f'rendered streets (training seeds {first}..{last - 1}; held out from '
               f'{HELD_OUT_SEED})')


def split_frames(frames: Sequence[tuple[str, np.ndarray]], source: str,
                 size: tuple[int, int] | None) -> CalibrationFrames:
    """Check named frames and keep every ``HOLD_OUT_EVERY``-th apart for the check.

    Args:
        frames: ``(name, HxWx3 uint8 RGB)`` pairs, in order.
        source: What they came from, for messages and the record.
        size: ``(height, width)`` every frame must have (a fixed-size graph), or None.

    Raises:
        InputImageError: Too few frames, or one of the wrong size or type (named).
    """
    if len(frames) < MIN_FRAMES:
        raise InputImageError(f'calibration source {source}: {len(frames)} readable frames; '
                              f'INT8 calibration needs at least {MIN_FRAMES}')
    for name, image in frames:
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise InputImageError(f'calibration frame {name}: not an 8-bit colour image')
        height, width = image.shape[:2]
        if size is not None and (height, width) != tuple(size):
            raise InputImageError(
                f'calibration frame {name} is {width}x{height}; this graph takes '
                f'{size[1]}x{size[0]} frames only (resize them, or export with '
                '--dynamic-size)')
        if not (MIN_SIDE <= height <= MAX_SIDE and MIN_SIDE <= width <= MAX_SIDE):
            raise InputImageError(f'calibration frame {name} is {width}x{height}; sides must '
                                  f'be {MIN_SIDE}..{MAX_SIDE} pixels')
    images = [image for _, image in frames]
    return CalibrationFrames(
        calibration=[image for index, image in enumerate(images)
                     if index % HOLD_OUT_EVERY != HOLD_OUT_EVERY - 1],
        held_out=images[HOLD_OUT_EVERY - 1::HOLD_OUT_EVERY], source=source)
