# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The camera between scene light and pixels: exposure, white balance, optics and noise.

Real cameras differ most in what happens here, so every frame draws its own response: a
network trained on one fixed response learns that response's colours instead of the scene.
Drawn from a seed, so a frame is the same every time it is rendered.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import torch
from torch.nn import functional as F


@dataclass(frozen=True)
class SensorResponse:
    """How one frame's camera turns linear scene colour into 8-bit RGB.

    Attributes:
        exposure: Gain on scene light (auto-exposure never lands on the same value).
        white_balance: Per-channel gains ``(r, g, b)`` of an imperfect white balance.
        gamma: Display gamma of the tone curve.
        vignetting: Light lost at the image corners (0 = none).
        blur_length: Motion blur in pixels at 640 px width (0 = sharp).
        blur_angle: Direction of the motion blur in radians (0 = horizontal).
        read_noise: Standard deviation of signal-independent noise.
        shot_noise: Scale of signal-dependent noise (grows with the square root of the light).
    """

    exposure: float = 1.0
    white_balance: tuple[float, float, float] = (1.0, 1.0, 1.0)
    gamma: float = 1.1
    vignetting: float = 0.0
    blur_length: float = 0.0
    blur_angle: float = 0.0
    read_noise: float = 0.0
    shot_noise: float = 0.0

    @classmethod
    def random(cls, generator: torch.Generator) -> SensorResponse:
        """Draw a response within the range of common car and robot cameras."""
        values = torch.rand(9, generator=generator, dtype=torch.float64).tolist()
        blurred = values[4] < 0.4
        return cls(
            exposure=math.exp(math.log(0.6) + values[0] * math.log(1.6 / 0.6)),
            white_balance=(0.85 + 0.3 * values[1], 1.0, 0.85 + 0.3 * values[2]),
            gamma=1.0 + 0.5 * values[3],
            vignetting=0.35 * values[5],
            blur_length=4.0 * values[6] if blurred else 0.0,
            blur_angle=(values[7] - 0.5) * 0.6,
            read_noise=0.003 + 0.025 * values[8],
            shot_noise=0.02 * values[8])

    def apply(self, colour: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Turn ``(H, W, 3)`` linear colour into ``(H, W, 3)`` uint8 RGB."""
        height, width = colour.shape[:2]
        colour = colour * self.exposure * torch.tensor(self.white_balance, dtype=colour.dtype)
        if self.vignetting > 0:
            v = torch.linspace(-1, 1, height)[:, None]
            u = torch.linspace(-1, 1, width)[None, :]
            colour = colour * (1 - self.vignetting * (u ** 2 + v ** 2) / 2)[..., None]
        colour = _motion_blur(colour, self.blur_length * width / 640, self.blur_angle)
        light = colour.clamp(min=0)
        noise = torch.randn(colour.shape, generator=generator)
        colour = colour + noise * (self.read_noise + self.shot_noise * light.sqrt())
        return (colour.clamp(0, 1) ** (1 / self.gamma) * 255 + 0.5).to(torch.uint8)


def _motion_blur(colour: torch.Tensor, length: float, angle: float) -> torch.Tensor:
    """Average along a line of ``length`` pixels at ``angle``: a camera moving while exposed."""
    if length < 1.0:
        return colour
    radius = math.ceil(length / 2)
    size = 2 * radius + 1
    offsets = torch.linspace(-length / 2, length / 2, 4 * size)
    kernel = torch.zeros(size, size)
    columns = (offsets * math.cos(angle)).round().long() + radius
    rows = (offsets * math.sin(angle)).round().long() + radius
    kernel.index_put_((rows, columns), torch.ones_like(offsets), accumulate=True)
    kernel = (kernel / kernel.sum()).expand(3, 1, size, size)
    image = colour.permute(2, 0, 1)[None]
    image = F.pad(image, (radius,) * 4, mode='replicate')
    return F.conv2d(image, kernel, groups=3)[0].permute(1, 2, 0)
