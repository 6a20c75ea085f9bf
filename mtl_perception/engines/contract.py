# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The inference contract every engine keeps: a uint8 frame in, class ids and metres out.

An engine is one module ``engines/<backend>_engine.py`` (see :mod:`.loading`) whose engine
class satisfies :class:`Engine`. What all engines share lives here, so that a rule is written
once: the image check, the depth-range rule of REP 117, the normals mask, the host copy of a
prediction and the one-line description the node and the tools print.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from mtl_perception.checkpoint import ModelMetadata
from mtl_perception.errors import InputImageError, ModelConfigError
import numpy as np
import torch


@dataclass
class DevicePrediction:
    """Outputs still on the inference device, for consumers that keep working there.

    Attributes:
        labels: ``(H, W)`` uint8 class ids.
        depth: ``(H, W)`` float32 metres; +Inf beyond the depth range, -Inf nearer than it,
            NaN without depth (sky), as REP 117 has it.
        normals: ``(H, W, 3)`` float32 unit surface normals in the camera frame, NaN where
            depth is invalid; None unless the model has a normals head.
    """

    labels: torch.Tensor
    depth: torch.Tensor
    normals: torch.Tensor | None = None


@dataclass
class BatchPrediction:
    """One pass over frames of one size: :class:`DevicePrediction`'s fields, batch axis first."""

    labels: torch.Tensor
    depth: torch.Tensor
    normals: torch.Tensor | None = None

    def frames(self) -> list[DevicePrediction]:
        """Split into one prediction per frame (views, no copies)."""
        return [DevicePrediction(labels=self.labels[index], depth=self.depth[index],
                                 normals=None if self.normals is None else self.normals[index])
                for index in range(self.labels.shape[0])]


@dataclass
class Prediction:
    """Outputs at the input image's resolution, on the host.

    Attributes:
        labels: ``(H, W)`` class ids (uint8).
        depth: ``(H, W)`` float32 metres; +Inf beyond the depth range, -Inf nearer than it,
            NaN without depth (sky), as REP 117 has it.
        class_names: Name of each class id.
        palette: ``(num_classes, 3)`` uint8 colour of each class id.
        normals: ``(H, W, 3)`` float32 unit surface normals (camera frame), NaN where depth is
            invalid; None unless the model has a normals head.
    """

    labels: np.ndarray
    depth: np.ndarray
    class_names: tuple[str, ...]
    palette: np.ndarray
    normals: np.ndarray | None = None


@dataclass(frozen=True)
class EngineOptions:
    """What a caller may ask of any engine; an engine refuses what it cannot do.

    Attributes:
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        half: Float16 (``None``: where the engine's device makes it worthwhile).
        input_size: Resize every frame to ``(height, width)`` for the network; ``None``: as
            the metadata says (its ``input_size``, or each frame's own size when
            ``resize_input`` is false).
        channels_last: NHWC memory layout (torch).
        compile_model: ``torch.compile`` the network (torch).
    """

    device: str = 'auto'
    half: bool | None = None
    input_size: tuple[int, int] | None = None
    channels_last: bool = True
    compile_model: bool = False


@runtime_checkable
class Engine(Protocol):
    """One model file made runnable on one device.

    Attributes:
        backend: The engine module's name (``torch``, ``onnxruntime``, ...).
        provider: What executes the network (``torch cpu``, ``CUDAExecutionProvider``, ...).
        device: Where :meth:`infer` leaves its tensors.
        half: Whether the network runs in float16.
        metadata: The checkpoint metadata (classes, palette, normalisation, ranges).
        input_size: Network input ``(height, width)``; the typical frame size when
            ``resizes`` is false.
        resizes: Whether frames are resized to ``input_size`` (else the network runs at
            each frame's own size).
        has_normals: Whether predictions carry surface normals.
    """

    backend: str
    provider: str
    device: torch.device
    half: bool
    metadata: ModelMetadata
    input_size: tuple[int, int]
    resizes: bool
    has_normals: bool
    depth_range: tuple[float, float]  # the valid range now (metres), see set_depth_range

    @property
    def class_names(self) -> tuple[str, ...]:
        """Name of each class id."""

    @property
    def palette(self) -> np.ndarray:
        """``(num_classes, 3)`` uint8 colour of each class id."""

    def set_depth_range(self, low: float, high: float) -> None:
        """Use ``(low, high)`` metres as the valid range from the next frame on."""

    def infer(self, image: np.ndarray, *, bgr: bool = False) -> DevicePrediction:
        """Predict one ``HxWx3`` uint8 frame; results stay on :attr:`device`."""

    def infer_batch(self, images: Sequence[np.ndarray], *,
                    bgr: bool = False) -> list[DevicePrediction]:
        """Predict frames of one size, in one pass where the engine can; one result each."""

    def predict(self, image: np.ndarray, *, bgr: bool = False) -> Prediction:
        """Predict one frame; results as numpy arrays on the host."""


class EngineBase(abc.ABC):
    """What every engine implements the same way, given ``metadata`` and ``infer``."""

    metadata: ModelMetadata

    def __init__(self, metadata: ModelMetadata) -> None:
        self.metadata = metadata
        self.has_normals = bool(metadata.arch_kwargs.get('normals', False))
        self.depth_range: tuple[float, float] = tuple(metadata.depth_range)
        self._palette = metadata.palette_array

    @property
    def class_names(self) -> tuple[str, ...]:
        """Name of each class id."""
        return self.metadata.class_names

    @property
    def palette(self) -> np.ndarray:
        """``(num_classes, 3)`` uint8 colour of each class id."""
        return self._palette

    def set_depth_range(self, low: float, high: float) -> None:
        """Use ``(low, high)`` metres as the valid depth range; outside it depth is +-Inf.

        Raises:
            ModelConfigError: Unless ``0 <= low < high``.
        """
        if not 0 <= low < high:
            raise ModelConfigError(f'depth range must satisfy 0 <= min < max, got ({low}, {high})')
        self.depth_range = (float(low), float(high))

    @abc.abstractmethod
    def infer(self, image: np.ndarray, *, bgr: bool = False) -> DevicePrediction:
        """Predict one frame on the engine's device (each engine implements it)."""

    def infer_batch(self, images: Sequence[np.ndarray], *,
                    bgr: bool = False) -> list[DevicePrediction]:
        """Predict frames of one size, one pass per frame (engines that batch override it).

        Raises:
            InputImageError: No frames, a frame that is not ``HxWx3`` uint8, or frames of
                different sizes.
        """
        check_batch(images)
        return [self.infer(image, bgr=bgr) for image in images]

    def predict(self, image: np.ndarray, *, bgr: bool = False) -> Prediction:
        """Predict one frame; see :meth:`infer`. Results are numpy arrays on the host."""
        result = self.infer(image, bgr=bgr)
        normals = None if result.normals is None else result.normals.cpu().numpy()
        return Prediction(labels=result.labels.cpu().numpy(), depth=result.depth.cpu().numpy(),
                          class_names=self.class_names, palette=self._palette, normals=normals)


def check_image(image: object) -> None:
    """Raise :class:`InputImageError` unless ``image`` is a non-empty ``HxWx3`` uint8 array."""
    if not isinstance(image, np.ndarray):
        raise InputImageError(f'expected a numpy array, got {type(image).__name__}')
    if image.dtype != np.uint8:
        raise InputImageError(f'expected a uint8 image, got dtype {image.dtype}')
    if image.ndim != 3 or image.shape[2] != 3:
        raise InputImageError(f'expected an HxWx3 image, got shape {image.shape}')
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise InputImageError(f'image is empty: shape {image.shape}')


def check_batch(images: Sequence[np.ndarray]) -> None:
    """Raise :class:`InputImageError` unless ``images`` are one or more frames of one size."""
    if not len(images):
        raise InputImageError('expected at least one frame, got none')
    for image in images:
        check_image(image)
    sizes = sorted({f'{image.shape[1]}x{image.shape[0]}' for image in images})
    if len(sizes) > 1:
        raise InputImageError(f'frames of one pass must have one size, got {", ".join(sizes)}')


def mark_out_of_range(depth: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """Return ``depth`` with values below ``low`` as -Inf and above ``high`` as +Inf (REP 117).

    The one depth-range rule of every engine and of the exported graph. Host arrays take
    it through ``torch.from_numpy`` (no copy); NaN (no depth) stays NaN.
    """
    return (depth.masked_fill(depth < low, float('-inf'))
            .masked_fill(depth > high, float('inf')))


def mask_normals(normals: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
    """Return ``(H, W, 3)`` ``normals`` with NaN wherever ``depth`` is not finite.

    Where there is no measured surface there is no normal.
    """
    return normals.masked_fill(~torch.isfinite(depth).unsqueeze(-1), float('nan'))


def depth_range_with(model_range: tuple[float, float], low: float = 0.0,
                     high: float = 0.0) -> tuple[float, float]:
    """Return the valid depth range: ``low``/``high`` where set (non-zero), else the model's.

    Raises:
        ModelConfigError: The combined range is empty (``min >= max``).
    """
    low, high = low or model_range[0], high or model_range[1]
    if not low < high:
        raise ModelConfigError(f'depth range ({low}, {high}): need min < max (the model '
                               f'covers {model_range[0]}..{model_range[1]} m)')
    return low, high


def describe_input(engine: Engine) -> str:
    """Say what size frames reach the network at, e.g. ``640x192`` or ``each frame's own``."""
    height, width = engine.input_size
    return f'{width}x{height}' if engine.resizes else "each frame's own size"


def describe(engine: Engine) -> str:
    """One phrase naming what runs the network, e.g. ``onnxruntime (CPUExecutionProvider)``."""
    return f'{engine.backend} ({engine.provider}){" fp16" if engine.half else ""}'
