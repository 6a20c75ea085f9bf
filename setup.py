# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Build script of the ament_python package mtl_perception (also pip-installable)."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = 'mtl_perception'

RUNTIME = [
    'numpy',
    'opencv-python-headless',
    'open3d',
    'pyyaml',
    'rosbags',
    'simplejpeg',  # strict JPEG decoding: a damaged frame is refused, not grey-filled
    'torch>=2.5',
    'torchvision>=0.20',
    'tqdm',
    'matplotlib',
    'pillow',  # image sizes read from file headers before decoding
    'tensorboard',
    'imageio',
    'onnxruntime',
    'onnx',
    'onnxscript',
]
ROS_FROM_PYPI = [
    'ros-rclpy[fastrtps]',
    'ros-std-msgs',
    'ros-sensor-msgs',
    'ros-rcl-interfaces',
    'ros-diagnostic-msgs',
]
#: Foundation-model teachers for mtl_distill (SegFormer, Depth Anything, ... via transformers).
TEACHERS = [
    'transformers>=4.46',
    'scipy',  # Mask2Former's module needs it even for inference
]
#: The INT8 engine (backend openvino, precision int8): OpenVINO runs it, NNCF quantises.
INT8 = [
    'openvino>=2025.0',
    'nncf>=2.14',
]
TEST = [
    'colcon-common-extensions',
    'pytest',
    'flake8',
    'flake8-builtins',
    'flake8-comprehensions',
    'flake8-docstrings',
    'flake8-import-order',
    'flake8-quotes',
    'mcap',  # reads the KITTI bags back with a second, independent MCAP reader
    'pydocstyle',
    'ros-ament-flake8',
    'ros-ament-package',
    'ros-ament-pep257',
]

setup(
    name=PACKAGE,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*']),
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{PACKAGE}']),
        (f'share/{PACKAGE}', ['package.xml']),
        (f'share/{PACKAGE}/launch', glob('launch/*.py')),
        (f'share/{PACKAGE}/config', glob('config/*')),
        (f'share/{PACKAGE}/models', glob('models/*')),
    ],
    # Runtime dependencies come from rosdep (package.xml) in a ROS workspace and from the
    # extras below in a plain virtual environment; pinning them here would make the console
    # scripts of older setuptools refuse to start when apt provides the same modules.
    install_requires=['setuptools'],
    extras_require={'runtime': RUNTIME, 'ros': ROS_FROM_PYPI, 'teachers': TEACHERS,
                    'int8': INT8, 'test': TEST},
    zip_safe=True,
    maintainer='mtl_perception maintainers',
    maintainer_email='maintainers@mtl-perception.invalid',
    description='Real-time joint semantic segmentation and depth for ROS 2.',
    license='MIT',
    python_requires='>=3.10',
    entry_points={
        'console_scripts': [
            'mtl_infer = mtl_perception.commands:mtl_infer',
            'mtl_train = mtl_perception.commands:mtl_train',
            'mtl_eval = mtl_perception.commands:mtl_eval',
            'mtl_distill = mtl_perception.commands:mtl_distill',
            'mtl_export = mtl_perception.commands:mtl_export',
            'mtl_kitti_to_bag = mtl_perception.commands:mtl_kitti_to_bag',
            'mtl_import_checkpoint = mtl_perception.commands:mtl_import_checkpoint',
            'mtl_export_onnx = mtl_perception.commands:mtl_export_onnx',
            'perception_node = mtl_perception.commands:perception_node',
            'perception_lifecycle_node = mtl_perception.commands:perception_lifecycle_node',
            'mtl_bag_play = mtl_perception.commands:mtl_bag_play',
            'mtl_process_bag = mtl_perception.commands:mtl_process_bag',
            'mtl_demo = mtl_perception.commands:mtl_demo',
        ],
    },
)
