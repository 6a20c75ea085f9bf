"""Turn one prediction into the node's output messages, doing the per-pixel work on the device."""

from __future__ import annotations

from mtl_perception.geometry import Intrinsics, SemanticCloudAssembler
from mtl_perception.inference import DevicePrediction
from mtl_perception.ros.conversions import array_to_image, CLOUD_DTYPE, cloud_to_pointcloud2
import numpy as np
from sensor_msgs.msg import Image, PointCloud2
from std_msgs.msg import Header
import torch


class OutputBuilder:
    """Builds segmentation, colour, depth and point-cloud messages from device predictions.

    Args:
        palette: ``(num_classes, 3)`` uint8 colours by class id.
        device: Where predictions live; the palette is kept there for the colour lookup.
    """

    def __init__(self, palette: np.ndarray, device: torch.device) -> None:
        self.palette = torch.from_numpy(np.ascontiguousarray(palette)).to(device)
        self.assembler = SemanticCloudAssembler(palette)

    def segmentation(self, prediction: DevicePrediction, header: Header) -> Image:
        """Class ids as mono8."""
        return array_to_image(prediction.labels.cpu().numpy(), 'mono8', header)

    def colour(self, prediction: DevicePrediction, header: Header) -> Image:
        """Palette colours as rgb8."""
        colours = self.palette[prediction.labels.long()]
        return array_to_image(colours.cpu().numpy(), 'rgb8', header)

    def depth(self, prediction: DevicePrediction, header: Header) -> Image:
        """Metres as 32FC1, NaN where invalid (REP 118)."""
        return array_to_image(prediction.depth.float().cpu().numpy(), '32FC1', header)

    def points(self, prediction: DevicePrediction, intrinsics: Intrinsics, stride: int,
               header: Header) -> PointCloud2:
        """Organised cloud of every ``stride``-th pixel: x, y, z, packed rgb, label."""
        records = self.assembler(prediction.depth, prediction.labels, intrinsics, stride)
        cloud = records.cpu().numpy().view(CLOUD_DTYPE)[..., 0]
        return cloud_to_pointcloud2(cloud, header)
