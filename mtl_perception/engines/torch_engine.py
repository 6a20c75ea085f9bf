# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The PyTorch engine: ``Predictor`` runs a checkpoint's network on the CPU or CUDA.

Everything per frame happens on the chosen device after one upload of the uint8 image:
channel order, resize to the network input size, normalisation, forward pass, bilinear
upsampling of logits and depth (and normals, for three-task models) back to the input
resolution, argmax and the depth-range mask.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mtl_perception.checkpoint import load_checkpoint, ModelMetadata
from mtl_perception.engines.contract import (
    BatchPrediction, check_batch, check_image, DevicePrediction, EngineBase, EngineOptions,
    mark_out_of_range, mask_normals
)
from mtl_perception.errors import ModelConfigError
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

BACKEND = 'torch'
#: ``auto`` prefers the available backend with the highest preference.
AUTO_PREFERENCE = 0
MODEL_SUFFIXES = ('.pt',)


def available() -> bool:
    """Return True: PyTorch is a requirement of the package."""
    return True


def open_engine(path: Path, options: EngineOptions) -> Predictor:
    """Load a ``.pt`` checkpoint as a :class:`Predictor`.

    Raises:
        ModelConfigError: ``path`` is an exported graph, which only ONNX Runtime runs.
        CheckpointError: The checkpoint cannot be loaded.
    """
    if path.suffix.lower() == '.onnx':
        raise ModelConfigError(f'{path} is an exported ONNX graph: use backend onnxruntime')
    return Predictor.from_checkpoint(path, device=options.device, half=options.half,
                                     input_size=options.input_size,
                                     channels_last=options.channels_last,
                                     compile_model=options.compile_model)


def resolve_device(device: str | torch.device) -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` into an available device.

    Raises:
        ModelConfigError: If CUDA is requested but not available, or the name is unknown.
    """
    if str(device) == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise ModelConfigError(
            f'unknown device {device!r}; use "auto", "cpu", "cuda" or "cuda:N"') from None
    if resolved.type == 'cuda' and not torch.cuda.is_available():
        raise ModelConfigError(
            f'device {device!r} requested but CUDA is not available on this machine; '
            'use device "auto" or "cpu"')
    if resolved.type not in ('cpu', 'cuda'):
        raise ModelConfigError(f'unsupported device {device!r}; use "auto", "cpu" or "cuda"')
    return resolved


class Predictor(EngineBase):
    """The torch engine: runs a multi-task network on single RGB frames.

    Args:
        model: A network returning ``{"segmentation", "depth"}``.
        metadata: The checkpoint metadata (classes, palette, normalisation, sizes).
        device: ``"auto"`` (CUDA if present), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        half: Run in float16; ``None`` means on CUDA only. Not supported on the CPU.
        input_size: ``(height, width)`` every frame is resized to before the network. Default:
            the checkpoint's ``input_size`` if its metadata says to resize
            (``resize_input``), else each frame's own size.
        channels_last: Keep weights and activations in NHWC memory layout. On the CPU this
            makes the forward pass about 3x faster (oneDNN's depthwise convolutions are
            NHWC kernels; see docs/benchmarks.md); on CUDA it suits tensor cores.
        compile_model: Run the network through ``torch.compile``. The first frame then takes
            about a minute (it needs a C++ compiler on the CPU, Triton on CUDA); later
            frames of the same size are faster (forward 1.5x on the 2-core benchmark CPU).
    """

    backend = BACKEND

    def __init__(self, model: nn.Module, metadata: ModelMetadata, *,
                 device: str | torch.device = 'auto', half: bool | None = None,
                 input_size: tuple[int, int] | None = None,
                 channels_last: bool = True, compile_model: bool = False) -> None:
        super().__init__(metadata)
        self.device = resolve_device(device)
        self.half = self.device.type == 'cuda' if half is None else bool(half)
        if self.half and self.device.type != 'cuda':
            raise ModelConfigError('half precision (fp16) needs a CUDA device; use half=False')
        self.input_size = tuple(input_size or metadata.input_size)
        #: False: frames reach the network at their own size (``input_size`` is then only
        #: the typical frame, for warm-up and reports)
        self.resizes = input_size is not None or metadata.resize_input
        if len(self.input_size) != 2 or min(self.input_size) < 32:
            raise ModelConfigError(
                f'input_size must be (height, width) of at least 32 pixels, got {input_size}')
        self.dtype = torch.float16 if self.half else torch.float32
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.model = model.eval().to(self.device, self.dtype, memory_format=self.memory_format)
        self.network = torch.compile(self.model) if compile_model else self.model
        std = torch.tensor(metadata.std, device=self.device).view(1, 3, 1, 1)
        mean = torch.tensor(metadata.mean, device=self.device).view(1, 3, 1, 1)
        self._scale = 1.0 / (255.0 * std)
        self._shift = -mean / std
        names = [name.lower() for name in metadata.class_names]
        self._sky_id = names.index('sky') if 'sky' in names else None
        self.provider = f'torch {self.device.type}'
        self._staging: torch.Tensor | None = None
        self._staging_free: torch.cuda.Event | None = None

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = 'auto',
                        half: bool | None = None,
                        input_size: tuple[int, int] | None = None,
                        channels_last: bool = True, compile_model: bool = False) -> Predictor:
        """Load a checkpoint (validated, see ``load_checkpoint``) and wrap it.

        Other backends and exported graphs: :func:`mtl_perception.engines.loading.load_engine`.
        """
        checkpoint = load_checkpoint(path)
        return cls(checkpoint.model, checkpoint.metadata, device=device, half=half,
                   input_size=input_size, channels_last=channels_last,
                   compile_model=compile_model)

    def upload(self, image: np.ndarray) -> torch.Tensor:
        """Check an ``HxWx3`` uint8 image and copy it to the device as it is (one transfer)."""
        check_image(image)
        return self._to_device(np.ascontiguousarray(image))

    def upload_batch(self, images: Sequence[np.ndarray]) -> torch.Tensor:
        """Check frames of one size and copy them to the device as one ``NxHxWx3`` tensor."""
        check_batch(images)
        return self._to_device(np.stack(images))

    def _to_device(self, host_array: np.ndarray) -> torch.Tensor:
        """Copy a contiguous uint8 array to the device (on the CPU: no copy at all).

        On CUDA the array goes through a pinned staging buffer that is reused across frames
        of the same size (allocating pinned memory per frame would cost more than the copy);
        an event makes sure the previous asynchronous copy has left the buffer first.
        """
        host = torch.from_numpy(host_array)
        if self.device.type != 'cuda':
            return host
        if self._staging is None or self._staging.shape != host.shape:
            self._staging = torch.empty(host.shape, dtype=torch.uint8, pin_memory=True)
            self._staging_free = torch.cuda.Event()
        else:
            self._staging_free.synchronize()
        self._staging.copy_(host)
        uploaded = self._staging.to(self.device, non_blocking=True)
        self._staging_free.record()
        return uploaded

    def preprocess(self, image: torch.Tensor, *, bgr: bool = False,
                   always_resize: bool = False) -> torch.Tensor:
        """Turn an uploaded ``HxWx3`` (or ``NxHxWx3``) uint8 tensor into the network input.

        A frame of the input size is not resized (resizing would be the identity) unless
        ``always_resize``, which a traced graph for frames of any size needs; a Predictor
        that does not resize (see ``resizes``) never does.
        """
        batch = (image.unsqueeze(0) if image.dim() == 3 else image).permute(0, 3, 1, 2)
        if bgr:
            batch = batch.flip(1)
        batch = batch.float()
        if self.resizes and (always_resize or tuple(batch.shape[-2:]) != self.input_size):
            batch = F.interpolate(batch, size=self.input_size, mode='bilinear',
                                  align_corners=False, antialias=True)
        batch = (batch * self._scale + self._shift).to(self.dtype)
        return batch.contiguous(memory_format=self.memory_format)

    def postprocess(self, outputs: dict[str, torch.Tensor],
                    size: tuple[int, int]) -> DevicePrediction:
        """Post-process a one-frame batch; see :meth:`postprocess_batch`."""
        return self.postprocess_batch(outputs, size).frames()[0]

    def postprocess_batch(self, outputs: dict[str, torch.Tensor],
                          size: tuple[int, int]) -> BatchPrediction:
        """Upsample logits and depth bilinearly to ``size``, take the argmax, mark depth.

        Depth follows REP 117: +Inf beyond the depth range (too far to tell), -Inf nearer
        than it (too close), NaN where the class is ``sky`` (sky has no depth; a network
        still outputs some number there). Normals, when the network has them, are
        upsampled, renormalised to unit length and NaN wherever depth is not finite: where
        there is no measured surface there is no normal. Class ids come from
        ``max(dim=1).indices``, which picks the same (first) maximum as ``argmax`` but runs
        about 20x faster on the CPU over the channel dimension (see docs/benchmarks.md).
        """
        logits = F.interpolate(outputs['segmentation'], size=size, mode='bilinear',
                               align_corners=False)
        labels = logits.max(1).indices.to(torch.uint8)
        if 'depth_signed' in outputs:  # abs decoding: |x| after upsampling, as its authors
            depth = F.interpolate(outputs['depth_signed'].float(), size=size, mode='bilinear',
                                  align_corners=False)[:, 0].abs()
        else:
            depth = F.interpolate(outputs['depth'].float(), size=size, mode='bilinear',
                                  align_corners=False)[:, 0]
        depth = mark_out_of_range(depth, *self.depth_range)
        if self._sky_id is not None:
            depth = depth.masked_fill(labels == self._sky_id, float('nan'))
        normals = None
        if 'normals' in outputs:
            normals = F.interpolate(outputs['normals'].float(), size=size, mode='bilinear',
                                    align_corners=False)
            normals = mask_normals(F.normalize(normals, dim=1, eps=1e-6).permute(0, 2, 3, 1),
                                   depth)
        return BatchPrediction(labels=labels, depth=depth, normals=normals)

    @torch.inference_mode()
    def infer(self, image: np.ndarray, *, bgr: bool = False) -> DevicePrediction:
        """Predict one frame and keep the results on the device.

        Args:
            image: ``HxWx3`` uint8 RGB (or BGR with ``bgr=True``).
            bgr: The image's channels are blue, green, red.

        Raises:
            InputImageError: If the image is not a non-empty ``HxWx3`` uint8 array.
        """
        uploaded = self.upload(image)
        outputs = self.network(self.preprocess(uploaded, bgr=bgr))
        return self.postprocess(outputs, tuple(image.shape[:2]))

    @torch.inference_mode()
    def infer_batch(self, images: Sequence[np.ndarray], *,
                    bgr: bool = False) -> list[DevicePrediction]:
        """Predict frames of one size in one forward pass (CUDA); results stay on the device.

        Raises:
            InputImageError: No frames, a frame that is not ``HxWx3`` uint8, or frames of
                different sizes.
        """
        if self.device.type == 'cpu':  # one pass per frame: batched, oneDNN ran 1.3x slower
            return super().infer_batch(images, bgr=bgr)  # on 2 cores (docs/benchmarks.md)
        uploaded = self.upload_batch(images)
        outputs = self.network(self.preprocess(uploaded, bgr=bgr))
        return self.postprocess_batch(outputs, tuple(images[0].shape[:2])).frames()
