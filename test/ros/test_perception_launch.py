# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""perception.launch.py brought up by launch_testing (runs where launch_testing is installed).

On this project's CI machine launch_testing cannot be installed and the module is skipped;
test_launch_files.py checks the launch file statically there.
"""

from __future__ import annotations

import os
import unittest

import pytest

launch_testing = pytest.importorskip('launch_testing')
from ament_index_python.packages import get_package_share_directory  # noqa: E402,I100
from launch import LaunchDescription  # noqa: E402
from launch.actions import IncludeLaunchDescription  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
import launch_testing.actions  # noqa: E402
from mtl_perception.default_model import default_model_path  # noqa: E402


@pytest.mark.launch_test
def generate_test_description():
    """Launch the node on the default weights with a remapped camera topic."""
    launch_file = os.path.join(get_package_share_directory('mtl_perception'), 'launch',
                               'perception.launch.py')
    include = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(launch_file),
        launch_arguments={'image_topic': '/test/image', 'camera_info_topic': '/test/info',
                          'model': str(default_model_path()), 'device': 'cpu'}.items())
    return LaunchDescription([include, launch_testing.actions.ReadyToTest()])


class TestPerceptionLaunch(unittest.TestCase):
    """The launched node loads its model and subscribes to the remapped topic."""

    def test_node_reports_ready_on_the_remapped_topic(self, proc_output):
        """Wait for the node's start-up line."""
        proc_output.assertWaitFor('subscribed to /test/image', timeout=120)
