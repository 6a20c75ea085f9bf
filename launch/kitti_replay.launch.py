"""Replay a KITTI bag (from mtl_kitti_to_bag) into perception_node, optionally with rviz2.

Example::

    ros2 launch mtl_perception kitti_replay.launch.py bag:=/data/kitti_0001 rviz:=true
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration


def _arguments() -> list:
    """Every launch argument with its default and what it does."""
    defaults = (
        ('bag', '', 'rosbag2 folder written by mtl_kitti_to_bag'),
        ('rate', '1.0', 'playback speed factor'),
        ('camera', 'left', 'KITTI colour camera to segment: left or right'),
        ('model', '', 'checkpoint file; empty = the installed default weights'),
        ('device', 'auto', 'auto, cpu, cuda or cuda:N'),
        ('backend', 'auto', 'auto (ONNX Runtime when installed), torch or onnxruntime'),
        ('rviz', 'true', 'also start rviz2 with config/kitti_replay.rviz'),
    )
    return [DeclareLaunchArgument(name, default_value=default, description=text)
            for name, default, text in defaults]


def generate_launch_description():
    """Play the bag with --clock and run the node on simulated time."""
    share = get_package_share_directory('mtl_perception')
    camera = LaunchConfiguration('camera')
    play = ExecuteProcess(
        cmd=['ros2', 'bag', 'play', LaunchConfiguration('bag'), '--clock', '--rate',
             LaunchConfiguration('rate')], output='screen')
    perception = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(os.path.join(share, 'launch', 'perception.launch.py')),
        launch_arguments={
            'image_topic': ['/kitti/camera_color_', camera, '/image_raw'],
            'camera_info_topic': ['/kitti/camera_color_', camera, '/camera_info'],
            'model': LaunchConfiguration('model'), 'device': LaunchConfiguration('device'),
            'backend': LaunchConfiguration('backend'),
            'params_file': os.path.join(share, 'config', 'kitti_replay.yaml'),
            'use_sim_time': 'true', 'rviz': LaunchConfiguration('rviz'),
            'rviz_config': os.path.join(share, 'config', 'kitti_replay.rviz'),
            'rviz_fixed_frame': ['kitti_camera_color_', camera, '_optical_frame'],
        }.items())
    return LaunchDescription([*_arguments(), play, perception])
