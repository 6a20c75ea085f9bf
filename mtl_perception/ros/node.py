# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``perception_node``: camera in; segmentation, depth and a semantic point cloud out.

The subscription callbacks only store messages. The inference loop takes the newest image,
runs the Predictor and publishes; frames that arrive while it works replace each other and
are counted as dropped, so latency stays bounded at any input rate. Bad input is logged once
per cause and skipped; the node keeps serving.

Inference runs on the process's main thread and the executor spins in a second one. The
other way round, PyTorch's OpenMP pool on the CPU belongs to a second thread: libgomp then
manages more threads than there are cores and throttles its spin-waiting, which made every
forward pass 60 % slower on a 2-core machine (docs/benchmarks.md).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
import re
import signal
import sys
import threading
import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from mtl_perception.default_model import default_model_path
from mtl_perception.engines.factory import AnyPredictor, load_predictor
from mtl_perception.errors import ModelConfigError, MtlPerceptionError
from mtl_perception.ros.camera import frame_intrinsics
from mtl_perception.ros.class_info import class_info_yaml
from mtl_perception.ros.conversions import (
    compressed_to_rgb, image_to_rgb, intrinsics_to_camera_info
)
from mtl_perception.ros.errors import SettingsError
from mtl_perception.ros.frame_slot import LatestFrameSlot
from mtl_perception.ros.outputs import OutputBuilder
from mtl_perception.ros.parameters import (
    declare_settings, NodeSettings, PARAMETERS, settings_with
)
from mtl_perception.ros.stats import FrameStats
import numpy as np
from rcl_interfaces.msg import SetParametersResult
import rclpy
from rclpy.clock import Clock, ClockType
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.publisher import Publisher
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from rclpy.time import Time
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2
from std_msgs.msg import String

NODE_NAME = 'mtl_perception'
_NO_INPUT_WARNING_S = 5.0
_MAX_CAUSES = 32  # distinct problems logged; more are only counted (frames_bad)
_MAX_FRAMES = 64  # camera frames whose latest CameraInfo is kept
_MAX_LOG_CHARS = 400


class ModelLoadError(MtlPerceptionError):
    """The configured model cannot be loaded; the node cannot start."""


class FrameTooLargeError(MtlPerceptionError):
    """A frame has more pixels than ``max_input_pixels`` allows."""


def _short(identifier: str, limit: int = 64) -> str:
    """Quote an identifier from a message for a log line, cut to ``limit`` characters."""
    if len(identifier) <= limit:
        return repr(identifier)
    return f'{identifier[:limit]!r}... ({len(identifier)} characters)'


@dataclass
class _Outputs:
    segmentation: Publisher
    colour: Publisher
    depth: Publisher
    points: Publisher
    depth_info: Publisher
    normals: Publisher | None = None
    normals_colour: Publisher | None = None


def _subscribed(enabled: bool, publisher: Publisher | None) -> bool:
    """Whether an optional output is enabled, exists for this model and has a subscriber."""
    return enabled and publisher is not None and publisher.get_subscription_count() > 0


def _cause(error: Exception) -> str:
    """Group messages that differ only in numbers (sizes, counts) into one cause."""
    return f'{type(error).__name__}:{re.sub(r"[0-9]+", "N", str(error))}'


class PerceptionCore:
    """What the plain and the managed (lifecycle) node share, in phases.

    ``_prepare`` (construction: parameters, frame slot, counters), ``configure_model``
    (load and warm up the network), ``open_interfaces`` (publishers, subscriptions, timers)
    and their reverses ``close_interfaces`` and ``release_model``. The plain node runs the
    first three at once; the lifecycle node maps them onto its transitions. Mixed into an
    rclpy ``Node`` or ``LifecycleNode``.
    """

    predictor: AnyPredictor | None
    builder: OutputBuilder | None
    outputs: _Outputs | None

    def _prepare(self, *, fixed_until: str) -> None:
        """Declare the parameters and create what lives as long as the node."""
        self.slot: LatestFrameSlot[Image | CompressedImage] = LatestFrameSlot()
        self.stats = FrameStats()
        self._camera_infos: dict[str, CameraInfo] = {}
        self._camera_lock = threading.Lock()
        self._serving = threading.Lock()  # held while a frame is processed or outputs close
        self._reported: set[str] = set()
        self._last_input = time.monotonic()
        self._entities: list[object] = []
        self._periodic_timers: dict[str, object] = {}
        self.predictor, self.builder, self.outputs, self.warm_up_ms = None, None, None, 0.0
        self.settings: NodeSettings = declare_settings(self, fixed_until=fixed_until)
        self.add_on_set_parameters_callback(self._on_set_parameters)

    def configure_model(self) -> None:
        """Load the network and run it once.

        Raises:
            ModelLoadError: The model cannot be loaded or fails on its first frame.
        """
        self.predictor = self._load_predictor()
        self.warm_up_ms = self._warm_up()
        self.builder = OutputBuilder(self.predictor.palette, self.predictor.device)

    def release_model(self) -> None:
        """Drop the network and the output buffers (and their GPU memory) until configured."""
        self.predictor = self.builder = None

    def open_interfaces(self) -> None:
        """Create the publishers, subscriptions and timers; log the ready line."""
        predictor = self.predictor
        publish = self.create_publisher
        self.outputs = _Outputs(
            publish(Image, '~/segmentation', 5), publish(Image, '~/segmentation/color', 5),
            publish(Image, '~/depth', 5), publish(PointCloud2, '~/points', 5),
            publish(CameraInfo, '~/depth/camera_info', 5))
        if predictor.has_normals:
            self.outputs.normals = publish(Image, '~/normals', 5)
            self.outputs.normals_colour = publish(Image, '~/normals/color', 5)
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.class_info = publish(String, '~/class_info', latched)
        self.class_info.publish(String(data=class_info_yaml(predictor.metadata,
                                                            self.model_path)))
        self.diagnostics = publish(DiagnosticArray, '/diagnostics', 10)
        qos = self._input_qos()
        image_topic, images = self._subscribe_images(qos)
        infos = self.create_subscription(CameraInfo, 'camera_info', self._on_camera_info, qos)
        self._entities = [*(getattr(self.outputs, field.name)
                            for field in dataclasses.fields(self.outputs)),
                          self.class_info, self.diagnostics, images, infos]
        self._start_timers()
        self.get_logger().info(
            f'ready: model {self.model_path} ({len(predictor.class_names)} classes'
            f'{", normals" if predictor.has_normals else ""}, input '
            f'{predictor.input_size[1]}x{predictor.input_size[0]}) on '
            f'{predictor.backend} ({predictor.provider})'
            f'{" fp16" if predictor.half else ""}, warmed up in '
            f'{self.warm_up_ms:.0f} ms; subscribed to {image_topic}')

    def close_interfaces(self) -> None:
        """Destroy what ``open_interfaces`` made, after the frame in progress is published."""
        with self._serving:
            for timer in self._periodic_timers.values():
                self.destroy_timer(timer)
            for entity in self._entities:
                if entity is None:
                    continue
                if isinstance(entity, Publisher):
                    self.destroy_publisher(entity)
                else:
                    self.destroy_subscription(entity)
            self._periodic_timers, self._entities, self.outputs = {}, [], None
            self.slot.discard()

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
        low, high = self.predictor.metadata.depth_range
        low, high = settings.depth_min or low, settings.depth_max or high
        if not low < high:
            raise SettingsError(f'parameters depth_min and depth_max: the range would be '
                                f'({low}, {high}); need min < max')
        return low, high

    def _on_set_parameters(self, parameters: list[Parameter]) -> SetParametersResult:
        """Apply live parameter changes, all or none; refuse what would not work."""
        changes = {p.name: p.value for p in parameters if p.name in PARAMETERS}
        try:
            candidate = settings_with(self.settings, changes,
                                      live_only=self.predictor is not None)
            if self.predictor is not None:
                self.predictor.set_depth_range(*self._depth_range(candidate))
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
        """Run one frame before subscribing; return its milliseconds.

        The first forward pass creates the kernels (oneDNN primitives, cuDNN plans) and takes
        many times longer than the next; meanwhile real frames would pile up and, beyond the
        input queue depth, be lost inside the middleware without the node seeing them.
        """
        started = time.perf_counter()
        try:
            self.predictor.infer(np.zeros((*self.predictor.input_size, 3), dtype=np.uint8))
        except Exception as error:  # noqa: B902  torch.compile raises many library types
            first_line = next(iter(str(error).splitlines()), '')
            hint = '; try compile_model:=false' if self.settings.compile_model else ''
            raise ModelLoadError(f'the network failed on its first frame: '
                                 f'{type(error).__name__}: {first_line}{hint}') from None
        return (time.perf_counter() - started) * 1000.0

    def _load_predictor(self) -> AnyPredictor:
        settings = self.settings
        self.model_path = settings.model or str(default_model_path())
        size = (settings.input_height, settings.input_width)
        try:
            predictor = load_predictor(
                self.model_path, backend=settings.backend, device=settings.device,
                half=None if settings.half else False,
                input_size=size if size[0] else None,
                compile_model=settings.compile_model)
        except (MtlPerceptionError, OSError) as error:
            raise ModelLoadError(f'cannot load model {self.model_path!r}: {error}') from None
        self.predictor = predictor
        try:
            predictor.set_depth_range(*self._depth_range(settings))
        except ModelConfigError as error:
            raise ModelLoadError(str(error)) from None
        return predictor

    def _input_qos(self) -> QoSProfile:
        policies = {'best_effort': ReliabilityPolicy.BEST_EFFORT,
                    'reliable': ReliabilityPolicy.RELIABLE}
        return QoSProfile(history=HistoryPolicy.KEEP_LAST,
                          depth=self.settings.input_queue_depth,
                          reliability=policies[self.settings.input_reliability])

    def _subscribe_images(self, qos: QoSProfile) -> tuple[str, object]:
        """Subscribe to raw or compressed frames; return the topic and the subscription.

        The compressed topic is the raw topic's name plus ``/compressed`` (image_transport's
        convention), so remapping ``image`` moves both.
        """
        topic = self.resolve_topic_name('image')
        kind = Image
        if self.settings.input_transport == 'compressed':
            topic, kind = f'{topic}/compressed', CompressedImage
        return topic, self.create_subscription(kind, topic, self._on_image, qos)

    def _on_image(self, msg: Image | CompressedImage) -> None:
        self._last_input = time.monotonic()
        self.slot.put(msg)

    def _on_camera_info(self, msg: CameraInfo) -> None:
        with self._camera_lock:
            frame = msg.header.frame_id
            if frame not in self._camera_infos and len(self._camera_infos) >= _MAX_FRAMES:
                del self._camera_infos[next(iter(self._camera_infos))]  # the oldest frame
            self._camera_infos[frame] = msg

    def _wanted(self) -> dict[str, bool]:
        settings, outputs = self.settings, self.outputs
        return {
            'segmentation': settings.publish_segmentation
            and outputs.segmentation.get_subscription_count() > 0,
            'colour': settings.publish_segmentation_color
            and outputs.colour.get_subscription_count() > 0,
            'depth': settings.publish_depth and outputs.depth.get_subscription_count() > 0,
            'points': settings.publish_points and outputs.points.get_subscription_count() > 0,
            'depth_info': settings.publish_depth
            and outputs.depth_info.get_subscription_count() > 0,
            'normals': _subscribed(settings.publish_normals, outputs.normals),
            'normals_colour': _subscribed(settings.publish_normals, outputs.normals_colour),
        }

    def serve(self, stop: threading.Event) -> None:
        """Process the newest frame, again and again, until ``stop`` is set (main thread)."""
        while not stop.is_set() and not self.slot.closed:
            msg = self.slot.take(timeout=0.1)
            if msg is None:
                continue
            try:
                with self._serving:
                    if self.outputs is not None:  # not deactivated meanwhile
                        self._process(msg)
            except MtlPerceptionError as error:
                self.stats.skipped_bad += 1
                self._report_once(error, f'skipped a frame from {_short(msg.header.frame_id)}')
            except Exception as error:  # noqa: B902  the worker must outlive any bad frame
                self.stats.skipped_bad += 1
                self._report_once(error, 'unexpected error while processing a frame')

    def _process(self, msg: Image) -> None:
        wanted = self._wanted()
        if not any(wanted.values()):
            self.stats.skipped_unsubscribed += 1
            return
        rgb = self._decode(msg)
        intrinsics = info = None
        if wanted['points'] or wanted['depth_info']:
            with self._camera_lock:
                info = self._camera_infos.get(msg.header.frame_id)
            intrinsics = frame_intrinsics(info, self.settings.fallback_intrinsics,
                                          rgb.shape[1], rgb.shape[0])
            if intrinsics is None:
                self._report_once_text(
                    'no-intrinsics', f'no camera_info for frame {_short(msg.header.frame_id)} '
                    'and no fallback_intrinsics: ~/points and ~/depth/camera_info are not '
                    'published until one arrives')
        started = time.perf_counter()
        prediction = self.predictor.infer(rgb)
        inferred = time.perf_counter()
        header = msg.header
        if wanted['segmentation']:
            self.outputs.segmentation.publish(self.builder.segmentation(prediction, header))
        if wanted['colour']:
            self.outputs.colour.publish(self.builder.colour(prediction, header))
        if wanted['depth']:
            self.outputs.depth.publish(self.builder.depth(prediction, header))
        if wanted['depth_info'] and intrinsics is not None:
            self.outputs.depth_info.publish(intrinsics_to_camera_info(intrinsics, header, info))
        if wanted['normals']:
            self.outputs.normals.publish(self.builder.normals(prediction, header))
        if wanted['normals_colour']:
            self.outputs.normals_colour.publish(self.builder.normals_colour(prediction, header))
        if wanted['points'] and intrinsics is not None:
            self.outputs.points.publish(self.builder.points(
                prediction, intrinsics, self.settings.point_stride, header))
        latency = (self.get_clock().now() - Time.from_msg(header.stamp)).nanoseconds * 1e-9
        self.stats.record(latency, stages={'inference': inferred - started,
                                           'outputs': time.perf_counter() - inferred})

    def _decode(self, msg: Image | CompressedImage) -> np.ndarray:
        """Turn a raw or compressed frame into RGB, refusing frames beyond max_input_pixels."""
        limit = self.settings.max_input_pixels
        if isinstance(msg, CompressedImage):
            if len(msg.data) > 3 * limit:
                raise FrameTooLargeError(f'a compressed frame of {len(msg.data)} bytes is '
                                         f'larger than max_input_pixels={limit} raw pixels')
            rgb = compressed_to_rgb(msg)
            height, width = rgb.shape[:2]
        else:
            height, width = msg.height, msg.width
        if height * width > limit:
            raise FrameTooLargeError(
                f'a {width}x{height} frame has more than max_input_pixels={limit} pixels')
        return rgb if isinstance(msg, CompressedImage) else image_to_rgb(msg)

    def _report_once(self, error: Exception, context: str) -> None:
        self._report_once_text(_cause(error), f'{context}: {type(error).__name__}: {error} '
                               '(further frames with this problem are skipped silently)')

    def _report_once_text(self, cause: str, text: str) -> None:
        """Log a problem the first time its cause is seen; at most ``_MAX_CAUSES`` causes."""
        if cause in self._reported:
            return
        if len(self._reported) >= _MAX_CAUSES:
            if 'too-many-causes' not in self._reported:
                self._reported.add('too-many-causes')
                self.get_logger().warning(
                    f'more than {_MAX_CAUSES} distinct input problems: further ones are '
                    'counted in /diagnostics (frames_bad) but no longer logged')
            return
        self._reported.add(cause)
        if len(text) > _MAX_LOG_CHARS:
            text = text[:_MAX_LOG_CHARS] + '...'
        self.get_logger().warning(text)

    def _status(self) -> tuple[int, str, list[KeyValue]]:
        latency = self.stats.latency_percentiles()
        rate = self.stats.rate()
        values = {
            'rate_hz': f'{rate:.2f}', 'latency_p50_ms': f'{latency["p50"]:.1f}',
            'latency_p95_ms': f'{latency["p95"]:.1f}', 'latency_max_ms': f'{latency["max"]:.1f}',
            'frames_received': str(self.slot.received), 'frames_processed':
            str(self.stats.processed), 'frames_dropped': str(self.slot.dropped),
            'frames_bad': str(self.stats.skipped_bad),
            'frames_unsubscribed': str(self.stats.skipped_unsubscribed),
            **{f'{stage}_ms_p50': f'{ms:.1f}'
               for stage, ms in self.stats.stage_medians().items()},
            'device': str(self.predictor.device), 'half': str(self.predictor.half),
            'backend': self.predictor.backend, 'provider': self.predictor.provider,
            'model': self.model_path,
        }
        idle = time.monotonic() - self._last_input
        if self.slot.received == 0 or idle > _NO_INPUT_WARNING_S:
            level, message = DiagnosticStatus.WARN, f'no image for {idle:.0f} s'
        else:
            level, message = DiagnosticStatus.OK, f'{rate:.1f} Hz, p50 {latency["p50"]:.0f} ms'
        return level, message, [KeyValue(key=k, value=v) for k, v in values.items()]

    def _publish_diagnostics(self) -> None:
        level, message, values = self._status()
        status = DiagnosticStatus(level=level,
                                  name=f'{self.get_fully_qualified_name()}: perception',
                                  message=message, hardware_id=str(self.predictor.device),
                                  values=values)
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self.diagnostics.publish(array)

    def _log_status(self) -> None:
        _, message, values = self._status()
        counts = {v.key: v.value for v in values}
        self.get_logger().info(
            f'{message}; received {counts["frames_received"]}, processed '
            f'{counts["frames_processed"]}, dropped {counts["frames_dropped"]}, bad '
            f'{counts["frames_bad"]}')

    def destroy_node(self) -> None:
        """Stop serving, then tear the node down (also after a failed ``__init__``)."""
        if hasattr(self, 'slot'):
            self.slot.close()
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


def _spin(executor: SingleThreadedExecutor, stop: threading.Event) -> None:
    """Run callbacks until ``stop``; wall-clock timeouts, whatever the ROS clock does."""
    try:
        while not stop.is_set() and rclpy.ok():
            executor.spin_once(timeout_sec=0.1)
    except ExternalShutdownException:
        pass
    finally:
        stop.set()


def main(args: list[str] | None = None,
         node_class: type[PerceptionCore] = PerceptionNode,
         stop: threading.Event | None = None) -> int:
    """Run the node until Ctrl-C or SIGTERM; exit 1 with a clear message if it cannot start.

    Signals only set a flag that both loops check every 0.1 s of wall time: rclpy's own
    SIGTERM handling was seen to hang under ``use_sim_time`` once ``/clock`` stopped.
    ``node_class`` lets the benchmark run the same loop around a node whose network is
    replaced (bench/null_relay.py); ``stop`` is the flag of handlers installed earlier
    (``entry.py``), so a signal during start-up is not lost.
    """
    stop = stop or threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    node = None
    try:
        node = node_class()
        if stop.is_set():  # a signal during the start-up: leave without serving
            return 0
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        spinner = threading.Thread(target=_spin, args=(executor, stop), name='executor')
        spinner.start()
        try:
            node.serve(stop)
        finally:
            stop.set()
            spinner.join()
    except (ModelLoadError, SettingsError) as error:
        rclpy.logging.get_logger(NODE_NAME).fatal(str(error))
        return 1
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    from mtl_perception.ros.entry import main as entry_main  # handles signals from the start

    sys.exit(entry_main())
