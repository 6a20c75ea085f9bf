# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The serving loop: the newest frame of each camera in, the outputs somebody subscribed to out.

The subscription callbacks only store messages (:class:`LatestFrames`,
:class:`CameraInfoStore`); frames are stored as they came off the wire, serialised, so a frame
that is dropped is never turned into a Python message. :meth:`FrameServer.serve` takes the
newest frame of every camera that has one (waiting ``batch_window`` for cameras that fire
together), deserialises and decodes them, runs the frames of each size through one
``infer_batch`` of the engine and publishes each frame's outputs with its own header. Frames
that arrive while it works replace each other (per camera) and are counted as dropped, so
latency stays bounded at any input rate and every camera is served each round; a camera that
stops sending holds nobody up. Bad input is logged once per cause and camera and skipped; the
loop keeps serving.
"""

from __future__ import annotations

from dataclasses import dataclass
import threading
import time
from typing import Protocol

from mtl_perception.camera_model import frame_intrinsics, has_distortion
from mtl_perception.engines.contract import DevicePrediction, Engine
from mtl_perception.errors import ConversionError, MtlPerceptionError
from mtl_perception.formats.ros_images import frame_to_rgb
from mtl_perception.geometry import Intrinsics
from mtl_perception.holds import hold_if_asked
from mtl_perception.ros.cameras import camera_label, CameraChannel
from mtl_perception.ros.frame_slot import LatestFrames
from mtl_perception.ros.health import ProblemLog, short
from mtl_perception.ros.output_topics import FrameOutputs, needs_intrinsics, publish_frame
from mtl_perception.ros.parameters import NodeSettings
import numpy as np
from rclpy.clock import Clock
from rclpy.serialization import deserialize_message
from rclpy.time import Time
from sensor_msgs.msg import CameraInfo, CompressedImage, Image


#: A frame stamped further than this from the node's clock (seconds, either way) comes from
#: another clock: no real latency is that long.
OTHER_CLOCK_S = 60.0


def looks_raw(topic: str) -> bool:
    """Whether an image topic name says it carries raw (unrectified) pixels."""
    name = topic.removesuffix('/compressed').rsplit('/', 1)[-1]
    return name == 'raw' or name.endswith('_raw')


class ServedNode(Protocol):
    """Name what the server reads from its node for every frame."""

    settings: NodeSettings
    engine: Engine | None

    def get_clock(self) -> Clock:
        """Return the node's clock (ROS time), for the latency of each frame."""


@dataclass
class ReadyFrame:
    """One camera's frame, decoded and checked, waiting for its pass through the network."""

    channel: CameraChannel
    msg: Image | CompressedImage
    rgb: np.ndarray
    wanted: dict[str, bool]
    camera_info: CameraInfo | None
    intrinsics: Intrinsics | None


class FrameServer:
    """Runs the engine on the newest frames of ``node``'s cameras and publishes what is wanted.

    The node owns what changes over its life (``settings``, ``engine``) and opens and closes
    each camera's outputs; the server reads them for every frame, so a parameter change or a
    lifecycle transition takes effect at the next frame.
    """

    def __init__(self, node: ServedNode, problems: ProblemLog) -> None:
        self.node = node
        self.problems = problems
        self.frames: LatestFrames[bytes] = LatestFrames()
        self.cameras: dict[str, CameraChannel] = {}
        self.busy = threading.Lock()  # held while frames are processed or outputs close
        self.open = False  # whether the cameras' outputs exist (the node is active)

    def camera(self, name: str) -> CameraChannel:
        """Return camera ``name``'s channel, made on first use and kept for the node's life."""
        return self.cameras.setdefault(name, CameraChannel(name))

    def on_image(self, camera: str, data: bytes) -> None:
        """Subscription callback of ``camera`` (serialised frames): store it, never block."""
        self.cameras[camera].last_input = time.monotonic()
        self.frames.put(camera, data)

    def serve(self, stop: threading.Event) -> None:
        """Process the newest frames, again and again, until ``stop`` is set (main thread)."""
        while not stop.is_set() and not self.frames.closed:
            taken = self.frames.take(timeout=0.1, gather=self.node.settings.batch_window)
            if not taken:
                continue
            with self.busy:
                if self.open:  # not deactivated meanwhile
                    self._process(taken)

    def _process(self, taken: dict[str, bytes]) -> None:
        """Decode every taken frame, run each size's frames in one pass, publish each frame."""
        by_size: dict[tuple[int, ...], list[ReadyFrame]] = {}
        for camera, data in taken.items():
            channel, msg = self.cameras[camera], None
            try:
                msg = deserialize_message(data, channel.frame_type)
                frame = self._prepare(channel, msg)
            except Exception as error:  # noqa: B902  the worker must outlive any bad frame
                self._skip(channel, msg, error)
                continue
            if frame is not None:
                by_size.setdefault(frame.rgb.shape, []).append(frame)
        for frames in by_size.values():
            self._run(frames)

    def _prepare(self, channel: CameraChannel, msg: Image | CompressedImage) -> ReadyFrame | None:
        """Decode and rectify a frame and find its intrinsics; None when nobody listens."""
        settings = self.node.settings
        wanted = channel.outputs.wanted(settings)
        if not any(wanted.values()):
            channel.stats.skipped_unsubscribed += 1
            return None
        rgb = frame_to_rgb(msg, settings.max_input_pixels)
        info = channel.camera_infos.get(msg.header.frame_id)
        rgb = self._rectified(channel, rgb, info, msg.header.frame_id)
        intrinsics = None
        if needs_intrinsics(wanted):
            intrinsics = frame_intrinsics(info, settings.fallback_intrinsics,
                                          rgb.shape[1], rgb.shape[0])
            if intrinsics is None:
                self.problems.report_text(
                    f'{channel.name}/no-intrinsics', f'{camera_label(channel.name)}no '
                    f'camera_info for frame {short(msg.header.frame_id)} and no '
                    "fallback_intrinsics: ~/points and the outputs' camera_info are not "
                    'published until one arrives')
        return ReadyFrame(channel, msg, rgb, wanted, info, intrinsics)

    def _rectified(self, channel: CameraChannel, rgb: np.ndarray, info: CameraInfo | None,
                   frame_id: str) -> np.ndarray:
        """Undistort ``rgb`` when ``rectify`` is on; otherwise warn once about raw distortion.

        Raises:
            ConversionError: ``rectify`` is on and no CameraInfo came for the frame yet.
        """
        if not self.node.settings.rectify:
            if info is not None and has_distortion(info) and looks_raw(channel.image_topic):
                self.problems.report_text(
                    f'{channel.name}/distorted-raw', f'{camera_label(channel.name)}camera_info '
                    f'of frame {short(frame_id)} has distortion and {channel.image_topic} looks '
                    'like a raw image: outputs assume rectified pixels; set rectify:=true, or '
                    'subscribe to image_rect (image_proc)')
            return rgb
        if info is None:
            raise ConversionError(f'rectify:=true needs the camera_info of frame '
                                  f'{short(frame_id)}; none has arrived yet')
        return channel.rectifier.rectify(rgb, info) if has_distortion(info) else rgb

    def _run(self, frames: list[ReadyFrame]) -> None:
        """Run frames of one size in one pass; publish each frame's outputs."""
        started = time.perf_counter()
        try:
            predictions = self.node.engine.infer_batch([frame.rgb for frame in frames])
        except Exception as error:  # noqa: B902  the worker must outlive any bad frame
            for frame in frames:
                self._skip(frame.channel, frame.msg, error)
            return
        seconds = time.perf_counter() - started
        for frame, prediction in zip(frames, predictions):
            try:
                self._publish(frame, prediction, seconds, len(frames))
            except Exception as error:  # noqa: B902  the worker must outlive any bad frame
                self._skip(frame.channel, frame.msg, error)

    def _publish(self, frame: ReadyFrame, prediction: DevicePrediction, inference_s: float,
                 frames_in_pass: int) -> None:
        """Publish one frame's wanted outputs with its own header; record its latency."""
        started, header, engine = time.perf_counter(), frame.msg.header, self.node.engine
        publish_frame(frame.channel.outputs, frame.wanted, frame.channel.builder, FrameOutputs(
            prediction, header, frame.intrinsics, frame.camera_info,
            self.node.settings.point_stride, engine.depth_range))
        latency = (self.node.get_clock().now() - Time.from_msg(header.stamp)).nanoseconds * 1e-9
        if abs(latency) > OTHER_CLOCK_S:
            self.problems.report_text(
                f'{frame.channel.name}/other-clock', f'{camera_label(frame.channel.name)}frame '
                f"stamps are {latency:.0f} s away from this node's clock: they come from "
                'another clock (a bag played without --clock and use_sim_time:=true?); latency '
                'is not measured for such frames')
            latency = None
        frame.channel.stats.record(latency, stages={'inference': inference_s,
                                                    'outputs': time.perf_counter() - started},
                                   frames_in_pass=frames_in_pass)
        hold_if_asked(f'publish {frame.channel.stats.processed}')

    def _skip(self, channel: CameraChannel, msg: Image | CompressedImage | None,
              error: Exception) -> None:
        """Count a frame that could not be served and log its cause once per camera."""
        channel.stats.skipped_bad += 1
        label = camera_label(channel.name)
        if msg is None:
            self.problems.report(error, f'{label}skipped a frame that does not deserialise as '
                                 f'{channel.frame_type.__name__}', key=channel.name)
        elif isinstance(error, MtlPerceptionError):
            self.problems.report(error, f'{label}skipped a frame from '
                                 f'{short(msg.header.frame_id)}', key=channel.name)
        else:
            self.problems.report(error, f'{label}unexpected error while processing a frame',
                                 key=channel.name)
