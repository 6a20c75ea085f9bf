# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Joint transforms of a :class:`Sample`: geometry applied alike to image, labels and depth.

Labels are resampled with nearest neighbour and padded with the ignore id; depth and normals
with nearest neighbour (never blending valid and invalid pixels) and padded with 0 (invalid).
A horizontal flip mirrors normals too: their x component changes sign.
Scaling an image by ``s`` makes the scene look as if it were ``s`` times closer to the same
camera, so :class:`RandomScale` divides depth by ``s`` and keeps metric depth consistent
with what the network sees.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import io
import math

from mtl_perception.labels import IGNORE_ID
from mtl_perception.training.datasets.sample import Sample
from mtl_perception.training.errors import TrainingConfigError
import numpy as np
from PIL import Image
import torch
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F


def _resize(sample: Sample, size: tuple[int, int]) -> Sample:
    nearest = v2.InterpolationMode.NEAREST
    image = F.resize(sample['image'], list(size), antialias=True)
    labels = F.resize(sample['labels'][None], list(size), interpolation=nearest)[0]
    depth = F.resize(sample['depth'][None], list(size), interpolation=nearest)[0]
    normals = F.resize(sample['normals'], list(size), interpolation=nearest)
    return {**sample, 'image': image, 'labels': labels, 'depth': depth, 'normals': normals}


class Resize:
    """Resize to a fixed ``(height, width)`` like the predictor does: depth unchanged.

    The camera's intrinsics scale along with the image, so metric depth stays as it is.
    """

    def __init__(self, size: Sequence[int]) -> None:
        self.size = (int(size[0]), int(size[1]))

    def __call__(self, sample: Sample) -> Sample:
        """Return the transformed sample."""
        return _resize(sample, self.size)


class RandomScale:
    """Zoom by a random factor in ``[low, high]`` with the same intrinsics: depth / factor."""

    def __init__(self, low: float, high: float) -> None:
        if not 0 < low <= high:
            raise TrainingConfigError(f'scale range must satisfy 0 < low <= high, got '
                                      f'({low}, {high})')
        self.low, self.high = low, high

    def __call__(self, sample: Sample) -> Sample:
        """Return the transformed sample."""
        factor = self.low + (self.high - self.low) * float(torch.rand(()))
        height, width = sample['image'].shape[-2:]
        size = (max(1, round(height * factor)), max(1, round(width * factor)))
        scaled = _resize(sample, size)
        scaled['depth'] = scaled['depth'] / (size[0] / height)
        return scaled


class RandomCrop:
    """Crop a random ``(height, width)`` window, padding first where the sample is smaller."""

    def __init__(self, size: Sequence[int]) -> None:
        self.size = (int(size[0]), int(size[1]))

    def __call__(self, sample: Sample) -> Sample:
        """Return the transformed sample."""
        height, width = sample['image'].shape[-2:]
        pad_h, pad_w = max(0, self.size[0] - height), max(0, self.size[1] - width)
        if pad_h or pad_w:
            padding = [0, 0, pad_w, pad_h]
            sample = {**sample,
                      'image': F.pad(sample['image'], padding, fill=0),
                      'labels': F.pad(sample['labels'][None], padding, fill=IGNORE_ID)[0],
                      'depth': F.pad(sample['depth'][None], padding, fill=0.0)[0],
                      'normals': F.pad(sample['normals'], padding, fill=0.0)}
            height, width = height + pad_h, width + pad_w
        top = int(torch.randint(0, height - self.size[0] + 1, ()))
        left = int(torch.randint(0, width - self.size[1] + 1, ()))
        window = (slice(top, top + self.size[0]), slice(left, left + self.size[1]))
        return {**sample, 'image': sample['image'][(slice(None), *window)],
                'labels': sample['labels'][window], 'depth': sample['depth'][window],
                'normals': sample['normals'][(slice(None), *window)]}


class RandomHorizontalFlip:
    """Mirror left-right with probability ``p`` (streets and rooms are symmetric enough)."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, sample: Sample) -> Sample:
        """Return the transformed sample."""
        if float(torch.rand(())) >= self.p:
            return sample
        normals = sample['normals'].flip(-1)
        normals[0] = -normals[0]
        return {**sample, 'image': sample['image'].flip(-1),
                'labels': sample['labels'].flip(-1), 'depth': sample['depth'].flip(-1),
                'normals': normals}


class ColourJitter:
    """Photometric jitter of the image only (torchvision's ``ColorJitter``)."""

    def __init__(self, brightness: float = 0.3, contrast: float = 0.3,
                 saturation: float = 0.3, hue: float = 0.03) -> None:
        self.jitter = v2.ColorJitter(brightness, contrast, saturation, hue)

    def __call__(self, sample: Sample) -> Sample:
        """Return the transformed sample."""
        return {**sample, 'image': self.jitter(sample['image'])}


class BlurAndJpeg:
    """Degrade the image only, as cheap lenses and compressed camera streams do.

    A Gaussian blur (probability ``p_blur``, sigma up to ``max_sigma``) and a JPEG round trip
    (probability ``p_jpeg``, quality in ``quality``): a network that has only seen crisp,
    losslessly stored frames reads blocking and softness as texture.
    """

    def __init__(self, p_blur: float = 0.3, max_sigma: float = 1.2, p_jpeg: float = 0.4,
                 quality: tuple[int, int] = (30, 95)) -> None:
        self.p_blur, self.p_jpeg = p_blur, p_jpeg
        self.blur = v2.GaussianBlur(5, sigma=(0.1, max_sigma))
        self.quality = quality

    def __call__(self, sample: Sample) -> Sample:
        """Return the transformed sample."""
        image = sample['image']
        if float(torch.rand(())) < self.p_blur:
            image = self.blur(image)
        if float(torch.rand(())) < self.p_jpeg:
            quality = int(torch.randint(self.quality[0], self.quality[1] + 1, ()))
            image = _jpeg_round_trip(image, quality)
        return {**sample, 'image': image}


def _jpeg_round_trip(image: torch.Tensor, quality: int) -> torch.Tensor:
    """Encode ``(3, H, W)`` uint8 as JPEG at ``quality`` and decode it again (with Pillow)."""
    stream = io.BytesIO()
    Image.fromarray(image.permute(1, 2, 0).numpy()).save(stream, format='JPEG', quality=quality)
    stream.seek(0)
    decoded = np.asarray(Image.open(stream).convert('RGB'))
    return torch.from_numpy(decoded.copy()).permute(2, 0, 1)


class Compose:
    """Apply transforms in order."""

    def __init__(self, transforms: Sequence[Callable[[Sample], Sample]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, sample: Sample) -> Sample:
        """Return the transformed sample."""
        for transform in self.transforms:
            sample = transform(sample)
        return sample


def training_transform(input_size: Sequence[int], *, base_size: Sequence[int] | None = None,
                       scale: tuple[float, float] = (0.8, 1.25),
                       jitter: bool = True, blur_and_jpeg: bool = False) -> Compose:
    """Build the standard augmentation: optional resize to ``base_size``, zoom, crop, flip, jitter.

    Args:
        input_size: ``(height, width)`` crops the network trains on.
        base_size: Resize here first (the size the predictor would resize frames to).
        scale: Zoom range after the base resize.
        jitter: Add colour jitter.
        blur_and_jpeg: Add random blur and JPEG compression (:class:`BlurAndJpeg`).
    """
    steps: list[Callable[[Sample], Sample]] = []
    if base_size is not None:
        steps.append(Resize(base_size))
    if not math.isclose(scale[0], 1.0) or not math.isclose(scale[1], 1.0):
        steps.append(RandomScale(*scale))
    steps += [RandomCrop(input_size), RandomHorizontalFlip()]
    if jitter:
        steps.append(ColourJitter())
    if blur_and_jpeg:
        steps.append(BlurAndJpeg())
    return Compose(steps)
