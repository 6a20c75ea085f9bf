# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The training sample: an image with optional labels, depth and normals, and which exist."""

from __future__ import annotations

from typing import TypedDict

from mtl_perception.labels import IGNORE_ID
import numpy as np
import torch


class Sample(TypedDict):
    """One training sample as tensors.

    Keys:
        image: ``(3, H, W)`` uint8 RGB.
        labels: ``(H, W)`` int64 class ids, ``IGNORE_ID`` where unlabelled.
        depth: ``(H, W)`` float32 metres, 0 where invalid.
        has_labels: Scalar bool; False masks the segmentation loss for the whole sample.
        has_depth: Scalar bool; False masks the depth loss for the whole sample.
        normals: ``(3, H, W)`` float32 unit surface normals (camera frame), zero vectors
            where invalid.
        has_normals: Scalar bool; False masks the normals loss for the whole sample.
    """

    image: torch.Tensor
    labels: torch.Tensor
    depth: torch.Tensor
    has_labels: torch.Tensor
    has_depth: torch.Tensor
    normals: torch.Tensor
    has_normals: torch.Tensor


def make_sample(rgb: np.ndarray, labels: np.ndarray | None = None,
                depth: np.ndarray | None = None, normals: np.ndarray | None = None) -> Sample:
    """Build a sample from ``HxWx3`` uint8 RGB and whichever annotations exist.

    Missing labels become all-ignore, missing depth all-invalid and missing normals all-zero,
    with the task flag off; NaN or infinite depth counts as invalid. ``normals`` is ``HxWx3``.
    """
    height, width = rgb.shape[:2]
    image = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).contiguous()
    if labels is None:
        label_tensor = torch.full((height, width), IGNORE_ID, dtype=torch.int64)
    else:
        label_tensor = torch.from_numpy(labels.astype(np.int64))
    if depth is None:
        depth_tensor = torch.zeros(height, width)
    else:
        depth_tensor = torch.from_numpy(np.nan_to_num(
            depth.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0))
    if normals is None:
        normals_tensor = torch.zeros(3, height, width)
    else:
        normals_tensor = torch.from_numpy(np.nan_to_num(normals.astype(np.float32))).permute(
            2, 0, 1).contiguous()
    return Sample(image=image, labels=label_tensor, depth=depth_tensor,
                  has_labels=torch.tensor(labels is not None),
                  has_depth=torch.tensor(depth is not None),
                  normals=normals_tensor, has_normals=torch.tensor(normals is not None))
