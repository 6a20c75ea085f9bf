# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The camera response: deterministic per seed, and each effect does what it says."""

from __future__ import annotations

from mtl_perception.synthetic import (
    FOCAL_RANGE, render_drive, render_frame, SensorResponse
)
import numpy as np
import torch


def _grey(value: float = 0.5, size: tuple[int, int] = (16, 24)) -> torch.Tensor:
    return torch.full((*size, 3), value)


def test_the_same_seed_draws_the_same_response_and_other_seeds_differ():
    first = SensorResponse.random(torch.Generator().manual_seed(3))
    assert first == SensorResponse.random(torch.Generator().manual_seed(3))
    others = {SensorResponse.random(torch.Generator().manual_seed(s)) for s in range(20)}
    assert len(others) == 20
    exposures = [r.exposure for r in others]
    assert 0.6 <= min(exposures) and max(exposures) <= 1.6
    assert any(r.blur_length > 0 for r in others) and any(r.blur_length == 0 for r in others)


def test_exposure_and_white_balance_scale_the_light_per_channel():
    response = SensorResponse(exposure=1.5, white_balance=(1.2, 1.0, 0.8), gamma=1.0)
    pixels = response.apply(_grey(0.4), torch.Generator().manual_seed(0)).float() / 255
    np.testing.assert_allclose(pixels[0, 0].numpy(), [0.72, 0.6, 0.48], atol=2 / 255)


def test_vignetting_darkens_the_corners_and_not_the_centre():
    pixels = SensorResponse(vignetting=0.3).apply(_grey(), torch.Generator()).float()
    assert pixels[0, 0, 0] < pixels[8, 12, 0] - 10


def test_motion_blur_spreads_a_bright_dot_along_its_direction_only():
    dot = torch.zeros(15, 15, 3)
    dot[7, 7] = 1.0
    blurred = SensorResponse(blur_length=4.0 * 640 / 15, gamma=1.0).apply(
        dot, torch.Generator()).float()
    row, column = blurred[7, :, 0], blurred[:, 7, 0]
    assert (row > 0).sum() >= 4 and (column > 0).sum() == 1
    assert 240 <= float(row.sum()) <= 270


def test_noise_grows_with_the_configured_levels():
    quiet = SensorResponse(read_noise=0.0).apply(_grey(), torch.Generator().manual_seed(0))
    noisy = SensorResponse(read_noise=0.03, shot_noise=0.02).apply(
        _grey(), torch.Generator().manual_seed(0))
    assert quiet.float().std() == 0 and noisy.float().std() > 5


def test_frames_vary_their_camera_and_a_drive_keeps_its_own():
    frames = [render_frame(seed, width=96, height=32) for seed in range(6)]
    focal = {round(f.intrinsics.fx / 96, 4) for f in frames}
    assert len(focal) == 6
    assert all(FOCAL_RANGE[0] <= f <= FOCAL_RANGE[1] for f in focal)
    assert len({round(float(f.pose[1, 3]), 4) for f in frames}) == 6
    drive = list(render_drive(4, 2, width=96, height=32))
    means = [f.rgb.reshape(-1, 3).mean(0) for f in drive]
    assert drive[0].intrinsics == drive[1].intrinsics
    np.testing.assert_allclose(means[0], means[1], rtol=0.15)
