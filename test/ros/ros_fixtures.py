# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""What the DDS test modules share: one harness for the package's processes and a node.

A DDS domain per module, a KITTI bag to play, the package's commands started (with a hold
point), watched line by line and stopped, and a client that pumps camera frames into a node
until its outputs (or a line of its output) arrive.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import os
from pathlib import Path
import time

from mtl_perception.ros.conversions import array_to_image
from mtl_perception.synthetic.kitti_layout import write_kitti_drive
from mtl_perception.tools.kitti_to_bag import main as kitti_to_bag
import numpy as np
from process_holds import RunningProcess, start_command
import rclpy
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image, PointCloud2
from std_msgs.msg import Header

#: Each DDS test module's offset into the domain ids, so that modules (and the bag player's
#: second domain) never share one within a run.
MODULE_OFFSETS = {'node': 0, 'bag_play': 7, 'signals': 11, 'camera_inputs': 17, 'demo': 31,
                  'lifecycle_node': 41, 'distilled_student': 53, 'node_edges': 61,
                  'executor': 67, 'node_normals': 73, 'launch_run': 89, 'cameras': 23,
                  'node_int8': 79}
FRAME = 'camera_optical_frame'
K = (60.0, 0.0, 31.5, 0.0, 58.0, 23.5, 0.0, 0.0, 1.0)
OUTPUTS = {'segmentation': Image, 'segmentation/color': Image, 'depth/image': Image,
           'depth/color': Image, 'points': PointCloud2, 'depth/camera_info': CameraInfo}


def domain_id(module: str) -> int:
    """Return the DDS domain of a test module: 1..100, inside ROS's safe range (0-101)."""
    return 1 + (os.getpid() + MODULE_OFFSETS[module]) % 100


@contextlib.contextmanager
def ros_domain(domain_id: int) -> Iterator[str]:
    """Run rclpy in this process on DDS domain ``domain_id`` (children inherit it)."""
    os.environ['ROS_DOMAIN_ID'] = str(domain_id)
    rclpy.init()
    try:
        yield str(domain_id)
    finally:
        rclpy.shutdown()


def kitti_bag(root: Path, *, seed: int, frames: int, width: int, height: int,
              sensors: bool = False) -> tuple[Path, Path]:
    """Render a synthetic KITTI drive (no depth) and convert it; return the bag and drive.

    Camera only unless ``sensors`` (LiDAR, OXTS, tf) is asked for.
    """
    drive = write_kitti_drive(root, seed=seed, frames=frames, width=width, height=height,
                              with_depth=False, sensors=sensors, progress=False)
    assert kitti_to_bag([str(drive), str(root / 'bag'), '--no-progress']) == 0
    return root / 'bag', drive


def start_node(model: Path | str, *parameters: str, namespace: str, domain: str | int,
               lifecycle: bool = False, hold: str | None = None,
               remaps: tuple[str, ...] = ()) -> RunningProcess:
    """Start ``perception_node`` (or the lifecycle node) on the CPU with ``model``.

    Args:
        model: Checkpoint or graph.
        parameters: ``NAME:=VALUE`` parameters beyond model and device.
        namespace: The node's namespace.
        domain: Its DDS domain.
        lifecycle: Start ``perception_lifecycle_node`` instead.
        hold: A hold point to stop at.
        remaps: ``FROM:=TO`` remappings.
    """
    ros_args = ['-r', f'__ns:={namespace}', *(a for r in remaps for a in ('-r', r)),
                *(a for p in (f'model:={model}', 'device:=cpu', *parameters)
                  for a in ('-p', p))]
    program = 'perception_lifecycle_node' if lifecycle else 'perception_node'
    return start_command(program, '--ros-args', *ros_args, domain=domain, hold=hold)


def info_message(width: int = 64, height: int = 48, k=K) -> CameraInfo:
    """Make a CameraInfo of ``width x height`` images with intrinsics ``k``."""
    return CameraInfo(width=width, height=height, k=list(k))


def image_message(pixels: np.ndarray, encoding: str = 'rgb8') -> Image:
    """Make an Image message of RGB ``pixels`` (reordered for ``bgr8``)."""
    data = pixels[..., ::-1].copy() if encoding == 'bgr8' else pixels
    return array_to_image(data, encoding, Header())


def street_frame() -> np.ndarray:
    """Make a 64x48 RGB frame with structure (sky, facade, road) and noise."""
    rng = np.random.default_rng(3)
    pixels = np.zeros((48, 64, 3), np.uint8)
    pixels[:16] = (110, 160, 220)
    pixels[16:30] = (120, 100, 90)
    pixels[30:] = (70, 70, 75)
    return pixels + rng.integers(0, 40, pixels.shape, dtype=np.uint8)


class Client:
    """The test side of a node: publishes camera frames, collects every output by stamp."""

    def __init__(self, namespace: str, name: str = 'node_test_client') -> None:
        self.node = Node(name, namespace=namespace)
        self.image = self.node.create_publisher(Image, 'image', qos_profile_sensor_data)
        self.info = self.node.create_publisher(CameraInfo, 'camera_info',
                                               qos_profile_sensor_data)
        self.received: dict[str, dict[int, object]] = {name: {} for name in OUTPUTS}
        self.diagnostics: list = []
        for output, kind in OUTPUTS.items():
            self.node.create_subscription(
                kind, f'mtl_perception/{output}',
                lambda msg, output=output: self.received[output].__setitem__(
                    self.stamp_of(msg), msg), 10)
        from diagnostic_msgs.msg import DiagnosticArray
        self.node.create_subscription(DiagnosticArray, '/diagnostics',
                                      self.diagnostics.append, 10)
        self.stamp = 1000

    @staticmethod
    def stamp_of(message: object) -> int:
        """Return a message's header stamp in nanoseconds."""
        return message.header.stamp.sec * 10**9 + message.header.stamp.nanosec

    def spin(self, seconds: float) -> None:
        """Serve this node's callbacks for ``seconds``."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            rclpy.spin_once(self.node, timeout_sec=0.05)

    def fresh_status(self, timeout: float = 30.0):
        """Wait for the next /diagnostics message; return the node's status in it."""
        self.diagnostics.clear()
        deadline = time.monotonic() + timeout
        while not self.diagnostics and time.monotonic() < deadline:
            rclpy.spin_once(self.node, timeout_sec=0.05)
        assert self.diagnostics, f'no /diagnostics within {timeout} s'
        return self.diagnostics[-1].status[0]

    def send(self, image: Image, info: CameraInfo | None = None, frame: str = FRAME) -> int:
        """Publish ``image`` (and ``info``) with a fresh stamp; return the stamp in ns."""
        self.stamp += 1
        header = Header(frame_id=frame)
        header.stamp.sec = self.stamp
        image.header = header
        if info is not None:
            info.header = header
            self.info.publish(info)
        self.image.publish(image)
        return self.stamp * 10**9

    def pump_until(self, done, image: Image, info: CameraInfo | None, timeout: float = 120.0,
                   frame: str = FRAME) -> None:
        """Send the frame once a second until ``done()`` holds (outputs or a line arrived)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.send(image, info, frame)
            step_end = time.monotonic() + 1.0
            while time.monotonic() < step_end:
                rclpy.spin_once(self.node, timeout_sec=0.05)
                if done():
                    return
        raise AssertionError(f'not done within {timeout} s of sending frames')

    def request(self, image: Image, info: CameraInfo | None, outputs=tuple(OUTPUTS),
                timeout: float = 90.0, frame: str = FRAME) -> dict[str, object]:
        """Send the frame until every named output for one of its copies has arrived."""
        first = self.stamp + 1

        def complete_stamp() -> int | None:
            for stamp in range(first, self.stamp + 1):
                if all(stamp * 10**9 in self.received[name] for name in outputs):
                    return stamp * 10**9
            return None

        try:
            self.pump_until(lambda: complete_stamp() is not None, image, info, timeout,
                            frame)
        except AssertionError:
            raise AssertionError(f'no complete outputs {outputs} within {timeout} s') from None
        stamp = complete_stamp()
        return {name: self.received[name][stamp] for name in outputs}
