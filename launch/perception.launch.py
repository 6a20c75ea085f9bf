# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Launch perception_node on a camera, optionally with rviz2 showing its outputs.

Parameters come from ``params_file``; the launch arguments ``model``, ``device``, ``backend``
and ``precision`` override it only when given (empty by default), as image_pipeline's launch files
behave: a params file naming your model is obeyed, and ``model:=...`` on the command line
still wins over it.

Example::

    ros2 launch mtl_perception perception.launch.py image_topic:=/camera/image_raw \
        camera_info_topic:=/camera/camera_info rviz:=true

Several cameras in one node (one forward pass per frame size)::

    ros2 launch mtl_perception perception.launch.py cameras:=front,left,right \
        image_topic:=/{camera}/image_rect_color camera_info_topic:=/{camera}/camera_info
"""

import os
from pathlib import Path
import tempfile

from ament_index_python.packages import get_package_share_directory, PackageNotFoundError
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, LogInfo, OpaqueFunction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from mtl_perception.ros.camera_remaps import DEFAULT_TOPICS, input_remappings, parse_cameras
from mtl_perception.ros.rviz_config import retarget, topic_prefix


def _arguments(share: str) -> list:
    """Every launch argument with its default and what it does."""
    defaults = (
        ('image_topic', DEFAULT_TOPICS['image'],
         'sensor_msgs/Image topic to segment; with cameras, a pattern where {camera} stands '
         'for each name (default then /{camera}/image_raw)'),
        ('camera_info_topic', DEFAULT_TOPICS['camera_info'],
         'sensor_msgs/CameraInfo of that image; with cameras, a pattern as image_topic'),
        ('cameras', '', 'several cameras in one node, e.g. front,left,right: outputs under '
                    '~/<camera>/; empty = params_file, else one camera'),
        ('model', '', 'checkpoint file; empty = params_file, else the installed default weights'),
        ('device', '', 'auto, cpu, cuda or cuda:N; empty = params_file, else auto'),
        ('backend', '', 'auto (ONNX Runtime when installed), torch, onnxruntime or openvino; '
                        'empty = params_file, else auto'),
        ('precision', '', 'auto, fp32, fp16 or int8 (OpenVINO on the CPU); empty = params_file, '
                          'else auto'),
        ('params_file', os.path.join(share, 'config', 'perception.yaml'), 'parameter file'),
        ('namespace', '', 'namespace of the node'),
        ('use_sim_time', 'false', 'use /clock (true when replaying bags with --clock)'),
        ('rviz', 'false', 'also start rviz2'),
        ('rviz_config', os.path.join(share, 'config', 'perception.rviz'), 'rviz2 configuration'),
        ('rviz_fixed_frame', 'camera_optical_frame',
         "rviz2's fixed frame: your camera's optical frame, or a frame TF connects it to"),
        ('rviz_topic_prefix', '',
         "where rviz2 finds the node's topics; empty = /<namespace>/mtl_perception"),
    )
    return [DeclareLaunchArgument(name, default_value=default, description=text)
            for name, default, text in defaults]


OVERRIDABLE = ('model', 'device', 'backend', 'precision')  # override params_file when given


def generate_launch_description():
    """Declare the arguments and start the node (and rviz2 if asked)."""
    share = get_package_share_directory('mtl_perception')
    return LaunchDescription([*_arguments(share), OpaqueFunction(function=_node),
                              OpaqueFunction(function=_rviz)])


def _node(context) -> list:
    """Start the node: params_file first, then only the launch arguments actually given."""
    settings = context.launch_configurations
    given = {name: ParameterValue(settings[name], value_type=str)
             for name in OVERRIDABLE if settings[name]}
    cameras = parse_cameras(settings['cameras'])
    if cameras:
        given['cameras'] = list(cameras)
    topics = {'image': settings['image_topic'], 'camera_info': settings['camera_info_topic']}
    return [Node(
        package='mtl_perception', executable='perception_node', name='mtl_perception',
        namespace=settings['namespace'], output='screen', emulate_tty=True,
        parameters=[settings['params_file'], {**given, 'use_sim_time': _use_sim_time()}],
        remappings=input_remappings(cameras, topics))]


def _rviz(context) -> list:
    """Start rviz2 (if asked) on a copy of its configuration pointed at the node's topics."""
    if not IfCondition(LaunchConfiguration('rviz')).evaluate(context):
        return []
    try:
        get_package_share_directory('rviz2')
    except PackageNotFoundError:
        return [LogInfo(msg='rviz:=true, but rviz2 is not installed here (it is not a '
                            'dependency of mtl_perception): install ros-$ROS_DISTRO-rviz2 '
                            'where you look from; the node runs without it')]
    settings = context.launch_configurations
    prefix = settings['rviz_topic_prefix'] or topic_prefix(settings['namespace'])
    config = retarget(Path(settings['rviz_config']), prefix,
                      Path(tempfile.mkdtemp(prefix='mtl_perception_rviz_')),
                      parse_cameras(settings['cameras']))
    return [Node(package='rviz2', executable='rviz2', name='rviz2', output='screen',
                 arguments=['-d', str(config), '-f', settings['rviz_fixed_frame']],
                 parameters=[{'use_sim_time': _use_sim_time()}])]


def _use_sim_time() -> ParameterValue:
    """``use_sim_time`` as launch_ros parses a boolean, for the node and rviz2 alike."""
    return ParameterValue(LaunchConfiguration('use_sim_time'), value_type=bool)
