# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""A node that records the perception outputs over DDS, with arrival times, into a bag."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
import threading
import time

from diagnostic_msgs.msg import DiagnosticArray
from mtl_perception.ros import NODE_NAME
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.serialization import serialize_message
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import get_typestore, Stores
from sensor_msgs.msg import Image, PointCloud2

OUTPUTS = {'segmentation': Image, 'segmentation/color': Image, 'depth/image': Image,
           'points': PointCloud2}
_TYPESTORE = get_typestore(Stores.ROS2_HUMBLE)


def stamp_ns(message: object) -> int:
    """Return the header stamp of a message in nanoseconds."""
    return message.header.stamp.sec * 10**9 + message.header.stamp.nanosec


@dataclass
class Recording:
    """What arrived: inputs and outputs by stamp, with wall-clock arrival times."""

    inputs: dict[int, tuple[float, Image]] = field(default_factory=dict)
    outputs: dict[str, dict[int, tuple[float, object]]] = field(
        default_factory=lambda: {name: {} for name in OUTPUTS})
    diagnostics: dict[str, str] = field(default_factory=dict)


class OutputRecorder(Node):
    """Subscribes to the camera and to the node's outputs; writes the outputs to ``bag``."""

    def __init__(self, image_topic: str, bag: Path, node_namespace: str = '') -> None:
        super().__init__('mtl_output_recorder')
        self.recording = Recording()
        self._lock = threading.Lock()
        self._writer = Writer(bag, version=8, storage_plugin=StoragePlugin.MCAP)
        self._writer.open()
        self._connections = {}
        prefix = f'{node_namespace.rstrip("/")}/{NODE_NAME}'
        reliable = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
        # Reliable like the outputs: best effort lost whole camera frames (fragments of large
        # messages) in some demo runs. The demo's player (mtl_bag_play) publishes reliably.
        self.create_subscription(Image, image_topic, self._on_input, reliable)
        for name, kind in OUTPUTS.items():
            topic = f'{prefix}/{name}'
            self._connections[name] = self._writer.add_connection(
                topic, f'sensor_msgs/msg/{kind.__name__}', typestore=_TYPESTORE)
            self.create_subscription(kind, topic, lambda m, n=name: self._on_output(n, m),
                                     reliable)
        self.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 10)
        self.output_topic = f'{prefix}/depth/image'

    def _on_input(self, message: Image) -> None:
        with self._lock:
            self.recording.inputs[stamp_ns(message)] = (time.monotonic(), message)

    def _on_output(self, name: str, message: object) -> None:
        arrival = time.monotonic()
        stamp = stamp_ns(message)
        with self._lock:
            self.recording.outputs[name][stamp] = (arrival, message)
            self._writer.write(self._connections[name], stamp, serialize_message(message))

    def _on_diagnostics(self, message: DiagnosticArray) -> None:
        for status in message.status:
            if status.name.endswith(f'{NODE_NAME}: perception'):  # any namespace
                with self._lock:
                    self.recording.diagnostics = {kv.key: kv.value for kv in status.values}

    def close(self) -> None:
        """Finish the bag."""
        with self._lock:
            self._writer.close()
