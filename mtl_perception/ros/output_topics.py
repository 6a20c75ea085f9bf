# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The node's output topics: their names, which are wanted now, and publishing one frame.

Names follow image_transport: each image's CameraInfo is on its sibling topic
(``<namespace of the image topic>/camera_info``) and its compressed forms below it
(``<image>/compressed``, ``<depth image>/compressedDepth``). Every message is built only when
somebody subscribes to it (a compressed form needs its raw image built, not published).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from mtl_perception.engines.contract import DevicePrediction
from mtl_perception.geometry import Intrinsics
from mtl_perception.ros.compressed_outputs import (
    compressed_depth_message, jpeg_message, png_message
)
from mtl_perception.ros.conversions import intrinsics_to_camera_info
from mtl_perception.ros.outputs import OutputBuilder
from mtl_perception.ros.parameters import NodeSettings
from rclpy.publisher import Publisher
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2
from std_msgs.msg import Header

#: Output name -> (topic, message type, normals-only).
TOPICS = {
    'segmentation': ('~/segmentation', Image, False),
    'colour': ('~/segmentation/color', Image, False),
    'depth': ('~/depth/image', Image, False),
    'points': ('~/points', PointCloud2, False),
    'depth_colour': ('~/depth/color', Image, False),
    'depth_info': ('~/depth/camera_info', CameraInfo, False),
    'info': ('~/camera_info', CameraInfo, False),
    'colour_info': ('~/segmentation/camera_info', CameraInfo, False),
    'segmentation_png': ('~/segmentation/compressed', CompressedImage, False),
    'colour_jpeg': ('~/segmentation/color/compressed', CompressedImage, False),
    'depth_png': ('~/depth/image/compressedDepth', CompressedImage, False),
    'depth_colour_jpeg': ('~/depth/color/compressed', CompressedImage, False),
    'normals': ('~/normals', Image, True),
    'normals_colour': ('~/normals/color', Image, True),
    'normals_colour_info': ('~/normals/camera_info', CameraInfo, True),
    'normals_colour_jpeg': ('~/normals/color/compressed', CompressedImage, True),
}
INFO_OUTPUTS = ('depth_info', 'info', 'colour_info', 'normals_colour_info')


def camera_topic(camera: str, topic: str) -> str:
    """Move an output topic under its camera: ``~/depth/image`` -> ``~/front/depth/image``."""
    return topic.replace('~/', f'~/{camera}/', 1) if camera else topic


@dataclass
class Outputs:
    """The publishers of one camera's outputs (normals ones only for models that have them)."""

    publishers: dict[str, Publisher]

    @classmethod
    def create(cls, publish: Callable[..., Publisher], has_normals: bool,
               camera: str = '') -> Outputs:
        """Create every publisher of ``camera`` with ``publish`` (``create_publisher``)."""
        return cls({name: publish(kind, camera_topic(camera, topic), 5)
                    for name, (topic, kind, normals_only) in TOPICS.items()
                    if has_normals or not normals_only})

    def every(self) -> list[Publisher]:
        """Return every publisher."""
        return list(self.publishers.values())

    def wanted(self, settings: NodeSettings) -> dict[str, bool]:
        """Which outputs are enabled by the parameters and have a subscriber now."""
        enabled = {
            'segmentation': settings.publish_segmentation,
            'colour': settings.publish_segmentation_color,
            'depth': settings.publish_depth, 'points': settings.publish_points,
            'depth_info': settings.publish_depth,
            'info': settings.publish_segmentation or settings.publish_normals,
            'colour_info': settings.publish_segmentation_color,
            'segmentation_png': settings.publish_segmentation,
            'colour_jpeg': settings.publish_segmentation_color,
            'depth_png': settings.publish_depth,
            'depth_colour': settings.publish_depth, 'depth_colour_jpeg': settings.publish_depth,
            **dict.fromkeys(('normals', 'normals_colour', 'normals_colour_info',
                             'normals_colour_jpeg'), settings.publish_normals)}
        return {name: on and name in self.publishers
                and self.publishers[name].get_subscription_count() > 0
                for name, on in enabled.items()}


@dataclass
class FrameOutputs:
    """One frame's prediction and what is needed to publish its outputs."""

    prediction: DevicePrediction
    header: Header
    intrinsics: Intrinsics | None
    camera_info: CameraInfo | None  # the frame's own, if any came
    point_stride: int
    depth_range: tuple[float, float]  # valid metres now; the colour scale and PNG depth use it


def publish_frame(outputs: Outputs, wanted: dict[str, bool], builder: OutputBuilder,
                  frame: FrameOutputs) -> None:
    """Build and publish every wanted output of one frame."""
    send = outputs.publishers
    prediction, header = frame.prediction, frame.header
    images = {'segmentation': ('segmentation_png', builder.segmentation, png_message),
              'colour': ('colour_jpeg', builder.colour, jpeg_message),
              'depth_colour': ('depth_colour_jpeg', lambda p, h: builder.depth_colour(
                  p, h, frame.depth_range), jpeg_message),
              'normals_colour': ('normals_colour_jpeg', builder.normals_colour, jpeg_message)}
    for name, (compressed, build, encode) in images.items():
        if wanted[name] or wanted[compressed]:
            image = build(prediction, header)
            if wanted[name]:
                send[name].publish(image)
            if wanted[compressed]:
                send[compressed].publish(encode(image))
    if wanted['depth'] or wanted['depth_png']:
        depth = builder.depth(prediction, header)
        if wanted['depth']:
            send['depth'].publish(depth)
        if wanted['depth_png']:
            send['depth_png'].publish(compressed_depth_message(depth, frame.depth_range[1]))
    if wanted['normals']:
        send['normals'].publish(builder.normals(prediction, header))
    if frame.intrinsics is None:
        return
    infos = [name for name in INFO_OUTPUTS if wanted[name]]
    if infos:
        camera_info = intrinsics_to_camera_info(frame.intrinsics, header, frame.camera_info)
        for name in infos:
            send[name].publish(camera_info)
    if wanted['points']:
        send['points'].publish(builder.points(prediction, frame.intrinsics, frame.point_stride,
                                              header))


def needs_intrinsics(wanted: dict[str, bool]) -> bool:
    """Whether any wanted output needs the frame's intrinsics (the cloud, a CameraInfo)."""
    return wanted['points'] or any(wanted[name] for name in INFO_OUTPUTS)
