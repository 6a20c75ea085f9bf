# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""A SIGINT or SIGTERM at every named point of every ROS process ends it cleanly.

Each process is held at a hold point (``MTL_HOLD_AT``: before its modules are imported,
after rclpy is initialised, while it creates its publishers, while it publishes, while it
shuts down); the test waits for the point's announcement, sends the signal there, and checks
the exit code, the one line that says so, that no traceback reached the output, and that
nothing half-written remains. Nothing depends on how fast the machine is.
"""

from __future__ import annotations

import signal

from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState
from mtl_perception.tools.kitti_to_bag import camera_topics
import pytest
import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_fixtures import (Client, domain_id, image_message, info_message, kitti_bag,
                          ros_domain, start_command, start_node, street_frame)
from sensor_msgs.msg import Image

NAMESPACE = '/signals_test'
SIGNALS = (signal.SIGTERM, signal.SIGINT)


@pytest.fixture(scope='module')
def domain():
    """Initialise rclpy in this process on a domain of its own."""
    with ros_domain(domain_id('signals')) as chosen:
        yield chosen


@pytest.fixture(scope='module')
def client(domain):
    """Pump camera frames into the nodes under test."""
    client = Client(NAMESPACE, name='signals_test_client')
    yield client
    client.node.destroy_node()


@pytest.fixture(scope='module')
def bag(tmp_path_factory):
    """Convert a three-frame synthetic KITTI drive into a bag."""
    return kitti_bag(tmp_path_factory.mktemp('signals'), seed=8, frames=3, width=48,
                     height=16)[0]


def _stopped_cleanly(code: int, output: str, expected: int, number: int) -> None:
    """Check the exit code, one line naming the signal, no traceback or error line."""
    assert code == expected, output
    assert 'Traceback' not in output and 'KeyboardInterrupt' not in output, output
    stops = [line for line in output.splitlines() if 'stopped' in line]
    assert len(stops) == 1 and signal.Signals(number).name in stops[0], output
    assert not [line for line in output.splitlines()
                if line.startswith(('[ERROR]', '[FATAL]'))], output


def _signal_at(process, point: str, number: int) -> tuple[int, str]:
    process.wait_for(f'holding at {point}')
    process.signal(number)
    return process.finish()


def _pumped(client, process, text: str) -> None:
    """Send frames until the node prints ``text``."""
    client.pump_until(lambda: process.has_line(text), image_message(street_frame()),
                      info_message())


@pytest.mark.parametrize('number', SIGNALS)
@pytest.mark.parametrize('point', ['start', 'init', 'interfaces'])
def test_a_signal_while_the_node_starts_ends_it_with_exit_0(domain, checkpoint_path, point,
                                                            number):
    process = start_node(checkpoint_path, 'backend:=torch', namespace=NAMESPACE,
                         domain=domain, hold=point)
    _stopped_cleanly(*_signal_at(process, point, number), 0, number)


@pytest.mark.parametrize('number', SIGNALS)
def test_a_signal_while_the_node_publishes_ends_it_with_exit_0(client, domain,
                                                               checkpoint_path, number):
    process = start_node(checkpoint_path, 'backend:=torch', namespace=NAMESPACE,
                         domain=domain, hold='publish 1')
    _pumped(client, process, 'holding at publish 1')
    process.signal(number)
    code, output = process.finish()
    _stopped_cleanly(code, output, 0, number)
    assert 'stopped by' in output and 'while serving' in output


@pytest.mark.parametrize('number', SIGNALS)
def test_a_second_signal_while_the_node_shuts_down_changes_nothing(domain, checkpoint_path,
                                                                   number):
    process = start_node(checkpoint_path, 'backend:=torch', namespace=NAMESPACE,
                         domain=domain, hold='shutdown')
    process.wait_for('ready: model')
    process.signal(signal.SIGTERM)
    code, output = _signal_at(process, 'shutdown', number)
    _stopped_cleanly(code, output, 0, signal.SIGTERM)


def _change_state(client, transition: int) -> None:
    """Ask the lifecycle node for a transition without waiting for the answer.

    The test watches the node's output instead: a reply can be lost while a service is
    still being matched, a printed line cannot.
    """
    service = client.node.create_client(ChangeState, f'{NAMESPACE}/mtl_perception/change_state')
    assert service.wait_for_service(timeout_sec=120)
    request = ChangeState.Request()
    request.transition.id = transition
    service.call_async(request)
    rclpy.spin_once(client.node, timeout_sec=0.1)


@pytest.mark.parametrize(('point', 'number'), [('start', signal.SIGINT),
                                               ('init', signal.SIGTERM),
                                               ('interfaces', signal.SIGINT),
                                               ('publish 1', signal.SIGTERM)])
def test_a_signal_at_any_point_of_the_lifecycle_node_ends_it_with_exit_0(
        client, domain, checkpoint_path, point, number):
    process = start_node(checkpoint_path, 'backend:=torch', namespace=NAMESPACE,
                         domain=domain, hold=point, lifecycle=True)
    if point in ('interfaces', 'publish 1'):
        _change_state(client, Transition.TRANSITION_CONFIGURE)
        process.wait_for('configured: model')
        _change_state(client, Transition.TRANSITION_ACTIVATE)
    if point == 'publish 1':
        _pumped(client, process, 'holding at publish 1')
    _stopped_cleanly(*_signal_at(process, point, number), 0, number)


@pytest.mark.parametrize(('point', 'number'), [('start', signal.SIGTERM),
                                               ('init', signal.SIGINT),
                                               ('publishers', signal.SIGTERM),
                                               ('publish 2', signal.SIGINT),
                                               ('publish 2', signal.SIGTERM)])
def test_a_signal_at_any_point_of_the_bag_player_ends_it_with_exit_0(domain, bag, point,
                                                                     number):
    process = start_command('mtl_bag_play', str(bag), '--delay', '0', '--loop',
                            domain=domain, hold=point)
    _stopped_cleanly(*_signal_at(process, point, number), 0, number)


def test_a_second_signal_while_the_bag_player_shuts_down_changes_nothing(client, domain, bag):
    images = []
    client.node.create_subscription(Image, camera_topics(2)['image'], images.append,
                                    QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
    process = start_command('mtl_bag_play', str(bag), '--delay', '0', '--loop',
                            domain=domain, hold='shutdown')
    while not images:  # playing: its handlers are in place
        assert process.process.poll() is None, process.output
        rclpy.spin_once(client.node, timeout_sec=0.1)
    process.signal(signal.SIGTERM)
    _stopped_cleanly(*_signal_at(process, 'shutdown', signal.SIGINT), 0, signal.SIGTERM)
