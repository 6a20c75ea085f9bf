# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Replay a KITTI bag (from mtl_kitti_to_bag) into perception_node, optionally with rviz2.

Playback starts when the node logs that it is ready (model loaded and warmed up), so the
first frames of a short drive are not lost to the warm-up. rviz2 shows the semantic cloud
over the bag's LiDAR with ``base_link`` (z up) as the fixed frame; bags without ``/tf_static``
(camera-only drives) need ``fixed_frame:=kitti_camera_color_left_optical_frame``. Example::

    ros2 launch mtl_perception kitti_replay.launch.py bag:=/data/kitti_0001 rviz:=true
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import (DeclareLaunchArgument, ExecuteProcess, IncludeLaunchDescription,
                            LogInfo, OpaqueFunction, RegisterEventHandler)
from launch.event_handlers import OnProcessIO
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.substitutions import ExecutableInPackage

READY_MARK = b'ready: model '
NODE_EXECUTABLE = 'perception_node'


def _arguments() -> list:
    """Every launch argument with its default and what it does; ``bag`` has none."""
    defaults = (
        ('rate', '1.0', 'playback speed factor'),
        ('camera', 'left', 'KITTI colour camera to segment: left or right'),
        ('model', '', 'checkpoint file; empty = config/kitti_replay.yaml, else the installed '
                      'default weights'),
        ('device', '', 'auto, cpu, cuda or cuda:N; empty = config/kitti_replay.yaml'),
        ('backend', '', 'auto (ONNX Runtime when installed), torch, onnxruntime or openvino; '
                        'empty = config/kitti_replay.yaml'),
        ('precision', '', 'auto, fp32, fp16 or int8 (OpenVINO on the CPU); empty = '
                          'config/kitti_replay.yaml'),
        ('rviz', 'true', 'also start rviz2 with config/kitti_replay.rviz'),
        ('fixed_frame', 'base_link', "rviz2's fixed frame; base_link needs the bag's /tf_static "
                                     '(drives with calibration and LiDAR or OXTS)'),
        ('player', 'ros2', 'ros2 (ros2 bag play) or mtl_bag_play (no ROS 2 CLI needed)'),
    )
    return [DeclareLaunchArgument('bag', description='rosbag2 folder written by '
                                  'mtl_kitti_to_bag (required)'),
            *(DeclareLaunchArgument(name, default_value=default, description=text)
              for name, default, text in defaults)]


# the first frame goes out only once DDS has matched the node's subscriptions: mtl_bag_play
# waits for them, ros2 bag play (which cannot) waits a second. mtl_bag_play is found in the
# package's lib folder, as ros2 run finds it (a colcon workspace does not put it on PATH).
PLAYERS = {'ros2': ['ros2', 'bag', 'play', '--delay', '1'],
           'mtl_bag_play': [ExecutableInPackage('mtl_bag_play', 'mtl_perception'), '--delay',
                            '0', '--wait-for-subscribers', '10']}


def _check_player(context) -> list:
    """Refuse an unknown player before anything starts."""
    player = context.launch_configurations['player']
    if player not in PLAYERS:
        raise ValueError(f'player must be one of {", ".join(PLAYERS)}, got {player!r}')
    return []


def _play(context) -> list:
    """Play the bag with /clock through the chosen player."""
    settings = context.launch_configurations
    return [ExecuteProcess(cmd=[*PLAYERS[settings['player']], settings['bag'], '--clock',
                                '--rate', settings['rate']], output='screen')]


def _start_playback_when_ready() -> RegisterEventHandler:
    """Start playback once, on the node's ready line."""
    started = []

    def on_output(event) -> list:
        if started or NODE_EXECUTABLE not in event.process_name or READY_MARK not in event.text:
            return []
        started.append(True)
        return [LogInfo(msg='perception_node is ready: playing the bag'),
                OpaqueFunction(function=_play)]

    return RegisterEventHandler(OnProcessIO(on_stdout=on_output, on_stderr=on_output))


def generate_launch_description():
    """Run the node on simulated time and play the bag with --clock once it is ready."""
    share = get_package_share_directory('mtl_perception')
    camera = LaunchConfiguration('camera')
    perception = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(os.path.join(share, 'launch', 'perception.launch.py')),
        launch_arguments={
            'image_topic': ['/kitti/camera_color_', camera, '/image_raw'],
            'camera_info_topic': ['/kitti/camera_color_', camera, '/camera_info'],
            'model': LaunchConfiguration('model'), 'device': LaunchConfiguration('device'),
            'backend': LaunchConfiguration('backend'),
            'precision': LaunchConfiguration('precision'),
            'params_file': os.path.join(share, 'config', 'kitti_replay.yaml'),
            'use_sim_time': 'true', 'rviz': LaunchConfiguration('rviz'),
            'rviz_config': os.path.join(share, 'config', 'kitti_replay.rviz'),
            'rviz_fixed_frame': LaunchConfiguration('fixed_frame'),
        }.items())
    return LaunchDescription([*_arguments(), OpaqueFunction(function=_check_player),
                              _start_playback_when_ready(), perception])
