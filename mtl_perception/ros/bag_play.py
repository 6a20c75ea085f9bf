# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``mtl_bag_play``: publish a rosbag2's messages at their recorded timing, with ``/clock``.

For machines without the ROS 2 CLI; ``ros2 bag play BAG --clock`` is the equivalent. The
recorded CDR bytes are published as they are (no deserialisation), read with ``rosbags``.
As ``ros2 bag play`` does, each topic is offered with the QoS its publishers were recorded
with, and ``--ros-args`` (remaps, node name, log level) apply to the player node.
"""

from __future__ import annotations

import argparse
import importlib
import math
from pathlib import Path
import sys
import threading
import time

from mtl_perception.cli import usage_error
from mtl_perception.holds import hold_if_asked
from mtl_perception.process_signals import stop_flag, StopFlag
from mtl_perception.ros.bag_reading import readable_messages
from mtl_perception.ros.entry import spin_until
from mtl_perception.ros.errors import BagPlayError, RosArgumentsError
from mtl_perception.ros.rcl_init import init_rclpy, ros_arguments_problem
import rclpy
from rclpy._rclpy_pybind11 import RCLError
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.utilities import remove_ros_args
from rosbags.interfaces import Connection, QosDurability, QosReliability
from rosbags.rosbag2 import Reader, ReaderError
from rosgraph_msgs.msg import Clock

PLAYBACK_DEPTH = 100


def message_class(msgtype: str) -> type:
    """Import the rclpy class of ``pkg/msg/Name``.

    Raises:
        BagPlayError: If the message package is not installed.
    """
    package, _, name = msgtype.split('/')
    try:
        return getattr(importlib.import_module(f'{package}.msg'), name)
    except (ImportError, AttributeError):
        raise BagPlayError(f'message type {msgtype} is not installed; install the ROS '
                           f'package {package}') from None


def recorded_qos(connection: Connection) -> QoSProfile:
    """Offer what the recorded publishers offered, as ``ros2 bag play`` does.

    Reliable only when every recorded publisher was reliable (a best-effort camera stays
    best effort, so reliable subscribers do not match it in replay either); transient local
    only when every one was; otherwise, and without a record, reliable and volatile.
    """
    profiles = list(getattr(connection.ext, 'offered_qos_profiles', None) or [])
    reliability, durability = ReliabilityPolicy.RELIABLE, DurabilityPolicy.VOLATILE
    if profiles:
        if any(p.reliability == QosReliability.BEST_EFFORT for p in profiles):
            reliability = ReliabilityPolicy.BEST_EFFORT
        if all(p.durability == QosDurability.TRANSIENT_LOCAL for p in profiles):
            durability = DurabilityPolicy.TRANSIENT_LOCAL
    return QoSProfile(depth=PLAYBACK_DEPTH, reliability=reliability, durability=durability)


class PlaybackClock:
    """Maps wall time to bag time: ``bag = start + (now - wall_start) * rate``."""

    def __init__(self, rate: float, bag_start_ns: int = 0) -> None:
        self.rate = rate
        self._bag_start = bag_start_ns
        self._wall_start: float | None = None
        self._lock = threading.Lock()

    def restart(self, bag_start_ns: int) -> None:
        """Begin (again) at bag time ``bag_start_ns`` now."""
        with self._lock:
            self._bag_start, self._wall_start = bag_start_ns, time.monotonic()

    def now_ns(self) -> int:
        """Return the current bag time in nanoseconds (the start time until playing)."""
        with self._lock:
            if self._wall_start is None:
                return self._bag_start
            elapsed = time.monotonic() - self._wall_start
            return self._bag_start + int(elapsed * self.rate * 1e9)

    def wait_until(self, bag_ns: int, stop: threading.Event) -> None:
        """Sleep until the bag time reaches ``bag_ns`` (or ``stop`` is set)."""
        while not stop.is_set():
            remaining = (bag_ns - self.now_ns()) / 1e9 / self.rate
            if remaining <= 0:
                return
            stop.wait(min(remaining, 0.05))


class BagPlayer(Node):
    """Publishes the chosen topics of a bag; ``play`` runs on the calling thread."""

    def __init__(self, bag: Path, *, rate: float = 1.0, topics: list[str] | None = None,
                 clock_hz: float = 0.0, stop: threading.Event | None = None) -> None:
        super().__init__('mtl_bag_play')
        if not bag.exists():
            raise BagPlayError(f'bag {bag} not found')
        self.stop = stop if stop is not None else threading.Event()
        self.published = 0
        self.damaged: list[str] = []
        try:
            with Reader(bag) as reader:
                connections = [c for c in reader.connections
                               if not topics or c.topic in topics]
                self.bag, self.clock = bag, PlaybackClock(rate, reader.start_time)
        except (ReaderError, OSError) as error:
            raise BagPlayError(f'cannot read bag {bag}: {error}') from None
        if not connections:
            raise BagPlayError(f'{bag} has none of the topics {topics}')
        self.publishers_by_topic = {}
        for connection in connections:
            try:
                kind = message_class(connection.msgtype)
            except BagPlayError as error:
                if topics:  # asked for by name: refuse rather than play without it
                    raise
                # as ros2 bag play does: a topic whose type is not installed is left out
                self.get_logger().warning(f'not playing {connection.topic}: {error}')
                continue
            self.publishers_by_topic[connection.topic] = self.create_publisher(
                kind, connection.topic, recorded_qos(connection))
            if len(self.publishers_by_topic) == 1:
                hold_if_asked('publishers', self.stop)  # tests signal it while it creates them
        if not self.publishers_by_topic:
            raise BagPlayError(f'{bag}: none of its message types is installed')
        self.clock_publisher = self.create_publisher(Clock, '/clock', 10) if clock_hz else None
        if clock_hz:
            self.create_timer(1.0 / clock_hz, self._publish_clock)

    def wait_for_subscribers(self, timeout: float,
                             expected: dict[str, int] | None = None) -> list[str]:
        """Wait until every played topic has its subscribers; return those still short.

        Args:
            timeout: Seconds to wait at most.
            expected: Subscribers to wait for by topic; other topics need one.
        """
        expected = expected or {}
        deadline = time.monotonic() + timeout
        while True:
            missing = [topic for topic, publisher in self.publishers_by_topic.items()
                       if publisher.get_subscription_count() < expected.get(topic, 1)]
            if not missing or time.monotonic() >= deadline or self.stop.is_set():
                return missing
            time.sleep(0.05)

    def _publish_clock(self) -> None:
        stamp = self.clock.now_ns()
        message = Clock()
        message.clock.sec, message.clock.nanosec = divmod(stamp, 10**9)
        self.clock_publisher.publish(message)

    def play(self, loop: bool = False) -> int:
        """Publish every message at its recorded time; returns how many were published.

        Damage in the bag (a chunk that does not decode, fewer messages than its metadata
        lists) ends the pass where it is found and is recorded in :attr:`damaged`.
        """
        while not self.stop.is_set():
            with Reader(self.bag) as reader:
                connections = [c for c in reader.connections
                               if c.topic in self.publishers_by_topic]
                self.clock.restart(reader.start_time)
                passed = 0
                for connection, stamp, raw in readable_messages(reader, connections,
                                                                self.damaged):
                    self.clock.wait_until(stamp, self.stop)
                    if self.stop.is_set():
                        break
                    self.publishers_by_topic[connection.topic].publish(bytes(raw))
                    self.published += 1
                    passed += 1
                    hold_if_asked(f'publish {self.published}', self.stop)
                listed = sum(c.msgcount for c in connections)
                if not self.stop.is_set() and passed < listed:
                    self.damaged.append(f'{listed - passed} of the {listed} listed message(s) '
                                        'could not be read')
            if not loop or self.damaged:
                break
        return self.published


def _number(*, positive: bool):
    """Build an argparse type for a finite number, > 0 (``positive``) or >= 0 otherwise."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'{text!r} is not a number') from None
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            raise argparse.ArgumentTypeError(
                f'{text!r}: must be a finite number {"> 0" if positive else ">= 0"}')
        return value
    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='mtl_bag_play', description=(
            'Publish a rosbag2 (mcap or sqlite3) through rclpy at its recorded timing, '
            'as raw CDR, each topic with its recorded QoS. Equivalent of "ros2 bag play BAG '
            '--clock" for machines without the ROS 2 CLI. ROS arguments go after --ros-args, '
            'e.g. --ros-args -r /kitti/camera_color_left/image_raw:=/camera/image_raw.'))
    parser.add_argument('bag', type=Path, help='bag folder')
    parser.add_argument('--rate', type=_number(positive=True), default=1.0,
                        help='playback speed factor, > 0')
    parser.add_argument('--loop', action='store_true', help='start over at the end')
    parser.add_argument('--clock', nargs='?', type=_number(positive=False), const=40.0,
                        default=0.0,
                        metavar='HZ', help='publish /clock (default 40 Hz when given)')
    parser.add_argument('--topics', nargs='+', help='only these topics')
    parser.add_argument('--delay', type=_number(positive=False), default=1.0,
                        help='seconds to wait before playing, for subscribers to connect '
                             '(default: 1.0)')
    parser.add_argument('--wait-for-subscribers', type=_number(positive=False), default=0.0,
                        metavar='SECONDS',
                        help='after the delay, wait up to SECONDS until every played topic '
                             'has a subscriber (topics still without one are named in a '
                             'warning, and play starts anyway)')
    parser.add_argument('--expect', nargs='+', default=[], metavar='TOPIC:COUNT',
                        help='with --wait-for-subscribers: wait for COUNT subscribers on '
                             'TOPIC instead of one')
    return parser


def _report_stopped(stop: StopFlag, count: int, bag: Path) -> None:
    """Say in one line that a signal ended the playback, and how far it got."""
    sys.stderr.write(f'mtl_bag_play: stopped early by {stop.signal_name}: published {count} '
                     f'messages from {bag}\n')


def main(argv: list[str] | None = None) -> int:
    """Run ``mtl_bag_play``; return its exit code.

    0: played, or stopped by SIGINT or SIGTERM at any instant (as ``ros2 bag play``), with
    one line; 1: the bag is damaged part-way; 2: the bag is unreadable or the arguments are
    wrong. rclpy's context is shut down last, after the playback and the clock timer ended,
    so no message is ever published on a context that is going away.
    """
    stop = stop_flag()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        own = remove_ros_args(['mtl_bag_play', *argv])[1:]
    except RCLError as error:
        return usage_error('mtl_bag_play', ros_arguments_problem(str(error)))
    args = _parser().parse_args(own)
    try:
        expected = {topic: int(count) for topic, _, count in
                    (item.rpartition(':') for item in args.expect)}
    except ValueError:
        return usage_error('mtl_bag_play', f'--expect takes TOPIC:COUNT, got {args.expect}')
    try:
        init_rclpy(['mtl_bag_play', *argv])
    except RosArgumentsError as error:
        return usage_error('mtl_bag_play', error)
    try:
        return _play(args, expected, stop)
    except BagPlayError as error:
        return usage_error('mtl_bag_play', error)
    finally:
        rclpy.try_shutdown()


def _play(args: argparse.Namespace, expected: dict[str, int], stop: StopFlag) -> int:
    """Create the player, play, and take it down in order; return the exit code."""
    player = executor = spinner = None
    spinning_done, failures = threading.Event(), []
    try:
        hold_if_asked('init', stop)
        if not stop.is_set():
            player = BagPlayer(args.bag, rate=args.rate, topics=args.topics,
                               clock_hz=args.clock, stop=stop)
        if stop.is_set():
            _report_stopped(stop, 0, args.bag)
            return 0
        executor = SingleThreadedExecutor()
        executor.add_node(player)
        spinner = threading.Thread(target=spin_until, args=(executor, spinning_done, failures),
                                   name='executor')
        spinner.start()
        stop.wait(args.delay)
        if args.wait_for_subscribers > 0 and not stop.is_set():
            missing = player.wait_for_subscribers(args.wait_for_subscribers, expected)
            if missing:
                player.get_logger().warning(
                    f'too few subscribers after {args.wait_for_subscribers:g} s on: '
                    f'{", ".join(missing)}; playing anyway')
        started = time.monotonic()
        count = player.play(loop=args.loop)
        if stop.is_set():
            _report_stopped(stop, count, args.bag)
        else:
            player.get_logger().info(f'published {count} messages from {args.bag} in '
                                     f'{time.monotonic() - started:.2f} s')
        if failures:
            sys.stderr.write(f'mtl_bag_play: error: the /clock timer failed: '
                             f'{type(failures[0]).__name__}: {failures[0]}\n')
            return 1
        if player.damaged:
            sys.stderr.write(f'mtl_bag_play: error: {args.bag} is damaged, playback '
                             f'incomplete: {"; ".join(player.damaged)}\n')
            return 1
        return 0
    finally:
        hold_if_asked('shutdown', stop.next_signal())
        spinning_done.set()
        if spinner is not None:
            spinner.join()
        if executor is not None:
            executor.shutdown()
        if player is not None:
            player.destroy_node()
