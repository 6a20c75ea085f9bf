# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Turn one prediction into the node's output messages, doing the per-pixel work on the device.

Each output's pixels go from the device straight into the memory its message carries (one
copy, which on CUDA is the download), and that memory is reused from frame to frame: no
per-frame allocation and no second copy into the message.
"""

from __future__ import annotations

import array
import math

from mtl_perception.engines.contract import DevicePrediction
from mtl_perception.geometry import Intrinsics, SemanticCloudAssembler
from mtl_perception.ros.conversions import CLOUD_DTYPE, cloud_message, image_message
from mtl_perception.visualize import colourise_depth
import numpy as np
from sensor_msgs.msg import Image, PointCloud2
from std_msgs.msg import Header
import torch


class MessageMemory:
    """Host bytes that one output's messages carry, kept while the frame size stays the same."""

    def __init__(self) -> None:
        self.data = array.array('B')
        self._view = torch.empty(0)

    def view(self, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
        """Return a tensor of ``shape`` and ``dtype`` over :attr:`data`, reallocated if needed."""
        if tuple(self._view.shape) != shape or self._view.dtype != dtype:
            nbytes = math.prod(shape) * torch.empty(0, dtype=dtype).element_size()
            self._view = torch.empty(0)
            self.data = array.array('B', bytes(nbytes))
            self._view = torch.frombuffer(self.data, dtype=dtype).view(shape)
        return self._view


class OutputBuilder:
    """Builds segmentation, colour, depth and point-cloud messages from device predictions.

    A message returned by one method shares its data with the next message that method
    returns: publish or serialise it (rclpy copies on ``publish``) before asking for the next.

    Args:
        palette: ``(num_classes, 3)`` uint8 colours by class id.
        device: Where predictions live; the palette is kept there for the colour lookup.
    """

    def __init__(self, palette: np.ndarray, device: torch.device) -> None:
        self.palette = torch.from_numpy(np.ascontiguousarray(palette, dtype=np.uint8)).to(device)
        self.assembler = SemanticCloudAssembler(palette)
        self._memory = {name: MessageMemory() for name in ('segmentation', 'colour', 'depth',
                                                           'depth_colour', 'points', 'normals',
                                                           'normals_colour')}

    def segmentation(self, prediction: DevicePrediction, header: Header) -> Image:
        """Class ids as mono8."""
        labels = prediction.labels
        host = self._memory['segmentation'].view(tuple(labels.shape), torch.uint8)
        host.copy_(labels)
        return self._image('segmentation', 'mono8', host, header)

    def colour(self, prediction: DevicePrediction, header: Header) -> Image:
        """Palette colours as rgb8."""
        labels = prediction.labels
        host = self._memory['colour'].view((*labels.shape, 3), torch.uint8)
        ids = labels.reshape(-1).int()
        if host.device == self.palette.device:
            torch.index_select(self.palette, 0, ids, out=host.view(-1, 3))
        else:
            host.view(-1, 3).copy_(torch.index_select(self.palette, 0, ids))
        return self._image('colour', 'rgb8', host, header)

    def depth_colour(self, prediction: DevicePrediction, header: Header,
                     depth_range: tuple[float, float]) -> Image:
        """Depth colours as rgb8, as mtl_infer and the demo draw them (for rviz2 and people).

        Turbo on a logarithmic scale from 1 m (red) to the far limit (blue), black where there
        is no depth: rviz2's own scaling of 32FC1 spreads a few far pixels over the whole map.
        """
        depth = prediction.depth
        host = self._memory['depth_colour'].view((*depth.shape, 3), torch.uint8)
        host.numpy()[...] = colourise_depth(depth.cpu().numpy(), depth_range)
        return self._image('depth_colour', 'rgb8', host, header)

    def depth(self, prediction: DevicePrediction, header: Header) -> Image:
        """Metres as 32FC1 (REP 118): +Inf too far, -Inf too near, NaN none (REP 117)."""
        depth = prediction.depth
        host = self._memory['depth'].view(tuple(depth.shape), torch.float32)
        host.copy_(depth)
        return self._image('depth', '32FC1', host, header)

    def normals(self, prediction: DevicePrediction, header: Header) -> Image:
        """Encode unit surface normals as 32FC3 in the camera optical frame; NaN without depth."""
        normals = prediction.normals
        host = self._memory['normals'].view(tuple(normals.shape), torch.float32)
        host.copy_(normals)
        return self._image('normals', '32FC3', host, header)

    def normals_colour(self, prediction: DevicePrediction, header: Header) -> Image:
        """Colour normals as rgb8 by the usual ``(n + 1) / 2`` mapping; black without any."""
        normals = prediction.normals
        host = self._memory['normals_colour'].view(tuple(normals.shape), torch.uint8)
        colour = ((normals.nan_to_num(-1.0) + 1.0) * 127.5).round_().clamp_(0, 255)
        host.copy_(colour)
        return self._image('normals_colour', 'rgb8', host, header)

    def points(self, prediction: DevicePrediction, intrinsics: Intrinsics, stride: int,
               header: Header) -> PointCloud2:
        """Organised cloud of every ``stride``-th pixel: x, y, z, packed rgb, label."""
        height, width = (math.ceil(n / stride) for n in prediction.depth.shape)
        memory = self._memory['points']
        host = memory.view((height, width, CLOUD_DTYPE.itemsize // 4), torch.float32)
        self.assembler(prediction.depth, prediction.labels, intrinsics, stride, out=host)
        # z is the depth itself: one NaN or inf anywhere makes the sum non-finite (a single
        # reduction, ten times cheaper than isnan().any()).
        is_dense = bool(torch.isfinite(prediction.depth[::stride, ::stride].sum()))
        return cloud_message(memory.data, height, width, header, is_dense=is_dense)

    def _image(self, name: str, encoding: str, host: torch.Tensor, header: Header) -> Image:
        return image_message(self._memory[name].data, encoding, int(host.shape[0]),
                             int(host.shape[1]), header)
