# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The serving loop: the newest frame in, the outputs somebody subscribed to out.

The subscription callbacks only store messages (:class:`LatestFrameSlot`,
:class:`CameraInfoStore`). :meth:`FrameServer.serve` takes the newest frame, decodes it,
runs the engine and publishes; frames that arrive while it works replace each other and are
counted as dropped, so latency stays bounded at any input rate. Bad input is logged once per
cause and skipped; the loop keeps serving.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from mtl_perception.engines.contract import Engine
from mtl_perception.errors import ConversionError, MtlPerceptionError
from mtl_perception.formats.camera_info import has_distortion
from mtl_perception.formats.rectification import Rectifier
from mtl_perception.formats.ros_images import frame_to_rgb
from mtl_perception.ros.camera import frame_intrinsics
from mtl_perception.ros.frame_slot import LatestFrameSlot
from mtl_perception.ros.health import ProblemLog, short
from mtl_perception.ros.output_topics import (
    FrameOutputs, needs_intrinsics, Outputs, publish_frame
)
from mtl_perception.ros.outputs import OutputBuilder
from mtl_perception.ros.parameters import NodeSettings
from mtl_perception.ros.stats import FrameStats
import numpy as np
from rclpy.clock import Clock
from rclpy.time import Time
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

MAX_CAMERA_FRAMES = 64  # camera frames whose latest CameraInfo is kept


def looks_raw(topic: str) -> bool:
    """Whether an image topic name says it carries raw (unrectified) pixels."""
    name = topic.removesuffix('/compressed').rsplit('/', 1)[-1]
    return name == 'raw' or name.endswith('_raw')


class CameraInfoStore:
    """The latest CameraInfo of each camera frame id, for at most ``MAX_CAMERA_FRAMES`` ids."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._infos: dict[str, CameraInfo] = {}

    def put(self, msg: CameraInfo) -> None:
        """Keep ``msg`` as its frame's latest; forget the oldest frame id beyond the bound."""
        with self._lock:
            frame = msg.header.frame_id
            if frame not in self._infos and len(self._infos) >= MAX_CAMERA_FRAMES:
                del self._infos[next(iter(self._infos))]
            self._infos[frame] = msg

    def get(self, frame_id: str) -> CameraInfo | None:
        """Return the latest CameraInfo of ``frame_id``, if any came."""
        with self._lock:
            return self._infos.get(frame_id)


class ServedNode(Protocol):
    """Name what the server reads from its node for every frame."""

    settings: NodeSettings
    image_topic: str
    engine: Engine | None
    builder: OutputBuilder | None
    outputs: Outputs | None

    def get_clock(self) -> Clock:
        """Return the node's clock (ROS time), for the latency of each frame."""


class FrameServer:
    """Runs the engine on the newest frame of ``node`` and publishes what is wanted.

    The node owns what changes over its life (``settings``, ``engine``, ``builder``,
    ``outputs``); the server reads them for every frame, so a parameter change or a
    lifecycle transition takes effect at the next frame.
    """

    def __init__(self, node: ServedNode, problems: ProblemLog) -> None:
        self.node = node
        self.problems = problems
        self.slot: LatestFrameSlot[Image | CompressedImage] = LatestFrameSlot()
        self.camera_infos = CameraInfoStore()
        self.stats = FrameStats()
        self.rectifier = Rectifier()
        self.busy = threading.Lock()  # held while a frame is processed or outputs close
        self.last_input = time.monotonic()

    def on_image(self, msg: Image | CompressedImage) -> None:
        """Subscription callback: store the frame, never block."""
        self.last_input = time.monotonic()
        self.slot.put(msg)

    def serve(self, stop: threading.Event) -> None:
        """Process the newest frame, again and again, until ``stop`` is set (main thread)."""
        while not stop.is_set() and not self.slot.closed:
            msg = self.slot.take(timeout=0.1)
            if msg is None:
                continue
            try:
                with self.busy:
                    if self.node.outputs is not None:  # not deactivated meanwhile
                        self._process(msg)
            except MtlPerceptionError as error:
                self.stats.skipped_bad += 1
                self.problems.report(error, f'skipped a frame from {short(msg.header.frame_id)}')
            except Exception as error:  # noqa: B902  the worker must outlive any bad frame
                self.stats.skipped_bad += 1
                self.problems.report(error, 'unexpected error while processing a frame')

    def _rectified(self, rgb: np.ndarray, info: CameraInfo | None,
                   frame_id: str) -> np.ndarray:
        """Undistort ``rgb`` when ``rectify`` is on; otherwise warn once about raw distortion.

        Raises:
            ConversionError: ``rectify`` is on and no CameraInfo came for the frame yet.
        """
        if not self.node.settings.rectify:
            if info is not None and has_distortion(info) and looks_raw(self.node.image_topic):
                self.problems.report_text(
                    'distorted-raw', f'camera_info of frame {short(frame_id)} has distortion '
                    f'and {self.node.image_topic} looks like a raw image: outputs assume '
                    'rectified pixels; set rectify:=true, or subscribe to image_rect '
                    '(image_proc)')
            return rgb
        if info is None:
            raise ConversionError(f'rectify:=true needs the camera_info of frame '
                                  f'{short(frame_id)}; none has arrived yet')
        return self.rectifier.rectify(rgb, info) if has_distortion(info) else rgb

    def _process(self, msg: Image | CompressedImage) -> None:
        node, settings = self.node, self.node.settings
        wanted = node.outputs.wanted(settings)
        if not any(wanted.values()):
            self.stats.skipped_unsubscribed += 1
            return
        rgb = frame_to_rgb(msg, settings.max_input_pixels)
        info = self.camera_infos.get(msg.header.frame_id)
        rgb = self._rectified(rgb, info, msg.header.frame_id)
        intrinsics = None
        if needs_intrinsics(wanted):
            intrinsics = frame_intrinsics(info, settings.fallback_intrinsics,
                                          rgb.shape[1], rgb.shape[0])
            if intrinsics is None:
                self.problems.report_text(
                    'no-intrinsics', f'no camera_info for frame {short(msg.header.frame_id)} '
                    "and no fallback_intrinsics: ~/points and the outputs' camera_info are "
                    'not published until one arrives')
        started = time.perf_counter()
        prediction = node.engine.infer(rgb)
        inferred = time.perf_counter()
        publish_frame(node.outputs, wanted, node.builder, FrameOutputs(
            prediction, msg.header, intrinsics, info, settings.point_stride,
            node.engine.depth_range))
        latency = (node.get_clock().now() - Time.from_msg(msg.header.stamp)).nanoseconds * 1e-9
        self.stats.record(latency, stages={'inference': inferred - started,
                                           'outputs': time.perf_counter() - inferred})
