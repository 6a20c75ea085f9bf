# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``perception_node``: camera in; segmentation, depth and a semantic point cloud out.

This module holds the node's phases and parameters; the serving loop is
:mod:`.serving`, the diagnostics and the report-once log :mod:`.health`, and the process
(signals, spinning, exit codes) :mod:`.entry`.
"""

from __future__ import annotations

import functools
import threading
import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from mtl_perception.default_model import default_model_path
from mtl_perception.engines.contract import depth_range_with, describe, describe_input, Engine
from mtl_perception.engines.loading import load_engine
from mtl_perception.errors import ModelConfigError, MtlPerceptionError
from mtl_perception.holds import hold_if_asked
from mtl_perception.ros import NODE_NAME
from mtl_perception.ros.cameras import CameraChannel, input_topic
from mtl_perception.ros.class_info import class_info_yaml
from mtl_perception.ros.errors import ModelLoadError, SettingsError
from mtl_perception.ros.health import CameraCounts, perception_status, ProblemLog, status_line
from mtl_perception.ros.output_topics import Outputs
from mtl_perception.ros.outputs import OutputBuilder
from mtl_perception.ros.parameters import (
    declare_settings, NodeSettings, PARAMETERS, settings_with, type_refusal
)
from mtl_perception.ros.serving import FrameServer
import numpy as np
from rcl_interfaces.msg import SetParametersResult
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.publisher import Publisher
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import String


class PerceptionCore:
    """What the plain and the managed (lifecycle) node share, in phases.

    ``_prepare`` (construction: parameters, serving loop, health), ``configure_model``
    (load and warm up the network), ``open_interfaces`` (publishers, subscriptions, timers)
    and their reverses ``close_interfaces`` and ``release_model``. The plain node runs the
    first three at once; the lifecycle node maps them onto its transitions. Mixed into an
    rclpy ``Node`` or ``LifecycleNode``.
    """

    engine: Engine | None

    def _prepare(self, *, fixed_until: str) -> None:
        """Declare the parameters and create what lives as long as the node."""
        self.server = FrameServer(self, ProblemLog(self.get_logger()))
        self._entities: list[object] = []
        self._periodic_timers: dict[str, object] = {}
        self.engine, self.warm_up_ms = None, 0.0
        self.settings: NodeSettings = declare_settings(self, fixed_until=fixed_until)
        self.add_on_set_parameters_callback(self._on_set_parameters)

    def configure_model(self) -> None:
        """Load the network and run it once.

        Raises:
            ModelLoadError: The model cannot be loaded or fails on its first frame.
        """
        self.engine = self._load_engine()
        self.warm_up_ms = self._warm_up()

    def release_model(self) -> None:
        """Drop the network (and its GPU memory) until configured."""
        self.engine = None

    def open_interfaces(self) -> None:
        """Create the publishers, subscriptions and timers; log the ready line."""
        engine, publish = self.engine, self.create_publisher
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        class_info = publish(String, '~/class_info', latched)
        class_info.publish(String(data=class_info_yaml(engine.metadata, self.model_path)))
        self.diagnostics = publish(DiagnosticArray, '/diagnostics', 10)
        self._entities = [class_info, self.diagnostics]
        hold_if_asked('interfaces')  # tests signal the node while it creates its topics
        qos = self._input_qos()
        for name in self.settings.cameras:
            self._open_camera(self.server.camera(name), qos)
        self.server.open = True
        self._start_timers()
        topics = [self.server.cameras[name].image_topic for name in self.settings.cameras]
        self.get_logger().info(
            f'ready: model {self.model_path} ({len(engine.class_names)} classes'
            f'{", normals" if engine.has_normals else ""}, input '
            f'{describe_input(engine)}) on {describe(engine)}, warmed up '
            f'in {self.warm_up_ms:.0f} ms; subscribed to {", ".join(topics)}'
            f'{f" ({len(topics)} cameras, one network)" if len(topics) > 1 else ""}')

    def _open_camera(self, channel: CameraChannel, qos: QoSProfile) -> None:
        """Create one camera's publishers and subscriptions."""
        engine = self.engine
        channel.outputs = Outputs.create(self.create_publisher, engine.has_normals, channel.name)
        channel.builder = OutputBuilder(engine.palette, engine.device)
        channel.image_topic, channel.frame_type, images = self._subscribe_images(channel.name,
                                                                                 qos)
        infos = self.create_subscription(CameraInfo, input_topic(channel.name, 'camera_info'),
                                         channel.camera_infos.put, qos)
        self._entities += [*channel.outputs.every(), images, infos]

    def close_interfaces(self) -> None:
        """Destroy what ``open_interfaces`` made, after the frames in progress are published."""
        with self.server.busy:
            for timer in self._periodic_timers.values():
                self.destroy_timer(timer)
            for entity in self._entities:
                if isinstance(entity, Publisher):
                    self.destroy_publisher(entity)
                else:
                    self.destroy_subscription(entity)
            self._periodic_timers, self._entities, self.server.open = {}, [], False
            for channel in self.server.cameras.values():
                channel.outputs = channel.builder = None
            self.server.frames.discard()

    def serve(self, stop: threading.Event) -> None:
        """Run the serving loop until ``stop`` is set (on the process's main thread)."""
        self.server.serve(stop)

    def _start_timers(self) -> None:
        """(Re)create the diagnostics and log timers at the current periods (wall clock)."""
        for timer in self._periodic_timers.values():
            self.destroy_timer(timer)
        wall = Clock(clock_type=ClockType.STEADY_TIME)
        self._periodic_timers = {
            'diagnostics': self.create_timer(self.settings.diagnostics_period,
                                             self._publish_diagnostics, clock=wall),
            'log': self.create_timer(self.settings.log_period, self._log_status, clock=wall)}

    def _depth_range(self, settings: NodeSettings) -> tuple[float, float]:
        """Return the valid depth range: the parameters where set (non-zero), else the model's."""
        try:
            return depth_range_with(self.engine.metadata.depth_range, settings.depth_min,
                                    settings.depth_max)
        except ModelConfigError as error:
            raise SettingsError(f'parameters depth_min and depth_max: {error}') from None

    def set_parameters_atomically(self, parameter_list: list[Parameter]) -> SetParametersResult:
        """Set parameters (the parameter services come here), refusing bad types in words."""
        reason = type_refusal(parameter_list, self.has_parameter)
        if reason is not None:
            return SetParametersResult(successful=False, reason=reason)
        return super().set_parameters_atomically(parameter_list)

    def _on_set_parameters(self, parameters: list[Parameter]) -> SetParametersResult:
        """Apply live parameter changes, all or none; refuse what would not work."""
        changes = {p.name: p.value for p in parameters if p.name in PARAMETERS}
        try:
            candidate = settings_with(self.settings, changes, live_only=self.engine is not None)
            if self.engine is not None:
                self.engine.set_depth_range(*self._depth_range(candidate))
        except (SettingsError, ModelConfigError) as error:
            return SetParametersResult(successful=False, reason=str(error))
        periods = (self.settings.diagnostics_period, self.settings.log_period)
        self.settings = candidate  # one reference swap: the serving loop sees old or new
        if self._periodic_timers and periods != (candidate.diagnostics_period,
                                                 candidate.log_period):
            self._start_timers()
        if changes:
            self.get_logger().info(f'parameters changed: {changes}')
        return SetParametersResult(successful=True)

    def _warm_up(self) -> float:
        """Run one frame (and one round of every camera) before subscribing; return the ms.

        The first forward pass creates the kernels (oneDNN primitives, cuDNN plans, a
        TensorRT engine per input shape) and takes many times longer than the next; meanwhile
        real frames would pile up and, beyond the input queue depth, be lost inside the
        middleware without the node seeing them.
        """
        started = time.perf_counter()
        frame = np.zeros((*self.engine.input_size, 3), dtype=np.uint8)
        try:
            self.engine.infer(frame)
            if len(self.settings.cameras) > 1:
                self.engine.infer_batch([frame] * len(self.settings.cameras))
        except Exception as error:  # noqa: B902  torch.compile raises many library types
            first_line = next(iter(str(error).splitlines()), '')
            hint = '; try compile_model:=false' if self.settings.compile_model else ''
            raise ModelLoadError(f'the network failed on its first frame: '
                                 f'{type(error).__name__}: {first_line}{hint}') from None
        return (time.perf_counter() - started) * 1000.0

    def _load_engine(self) -> Engine:
        settings = self.settings
        self.model_path = settings.model or str(default_model_path())
        size = (settings.input_height, settings.input_width)
        try:
            engine = load_engine(
                self.model_path, backend=settings.backend, device=settings.device,
                half=None if settings.half else False,
                input_size=size if size[0] else None,
                compile_model=settings.compile_model, precision=settings.precision)
        except (MtlPerceptionError, OSError) as error:
            raise ModelLoadError(f'cannot load model {self.model_path!r}: {error}') from None
        try:
            engine.set_depth_range(*depth_range_with(engine.metadata.depth_range,
                                                     settings.depth_min, settings.depth_max))
        except ModelConfigError as error:
            raise ModelLoadError(str(error)) from None
        return engine

    def _input_qos(self) -> QoSProfile:
        policies = {'best_effort': ReliabilityPolicy.BEST_EFFORT,
                    'reliable': ReliabilityPolicy.RELIABLE}
        return QoSProfile(history=HistoryPolicy.KEEP_LAST,
                          depth=self.settings.input_queue_depth,
                          reliability=policies[self.settings.input_reliability])

    def _subscribe_images(self, camera: str, qos: QoSProfile) -> tuple[str, type, object]:
        """Subscribe to a camera's raw or compressed frames; return topic, type, subscription.

        The compressed topic is the raw topic's name plus ``/compressed`` (image_transport's
        convention), so remapping ``image`` (``<camera>/image``) moves both. Frames arrive
        serialised (``raw``): only those the serving loop takes are deserialised.
        """
        topic = self.resolve_topic_name(input_topic(camera, 'image'))
        kind = Image
        if self.settings.input_transport == 'compressed':
            topic, kind = f'{topic}/compressed', CompressedImage
        return topic, kind, self.create_subscription(
            kind, topic, functools.partial(self.server.on_image, camera), qos, raw=True)

    def _diagnostic_statuses(self) -> list[DiagnosticStatus]:
        """One status per camera: ``<node>: perception`` (unnamed) or ``... perception/<name>``."""
        statuses, now = [], time.monotonic()
        frames = self.server.frames
        for name in self.settings.cameras:
            channel = self.server.camera(name)
            counts = CameraCounts(frames.received(name), frames.dropped(name), channel.stats,
                                  now - channel.last_input)
            own = {'camera': name} if name else {}
            statuses.append(perception_status(
                f'{self.get_fully_qualified_name()}: perception{"/" + name if name else ""}',
                counts, self.engine, self.model_path,
                {**own, 'image_topic': channel.image_topic}))
        return statuses

    def _publish_diagnostics(self) -> None:
        array = DiagnosticArray(status=self._diagnostic_statuses())
        array.header.stamp = self.get_clock().now().to_msg()
        self.diagnostics.publish(array)

    def _log_status(self) -> None:
        self.get_logger().info(' | '.join(status_line(status)
                                          for status in self._diagnostic_statuses()))

    def destroy_node(self) -> None:
        """Stop serving, then tear the node down (also after a failed ``__init__``)."""
        if hasattr(self, 'server'):
            self.server.frames.close()
        super().destroy_node()


class PerceptionNode(PerceptionCore, Node):
    """Runs the multi-task network on every newest camera frame and publishes its outputs.

    Everything is set up in the constructor; parameters that need the model reloaded are
    read-only. ``PerceptionLifecycleNode`` is the managed variant.
    """

    def __init__(self, **node_options: object) -> None:
        super().__init__(NODE_NAME, **node_options)
        self._prepare(fixed_until='restart')
        self.configure_model()
        self.open_interfaces()
