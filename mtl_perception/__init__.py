"""Real-time joint semantic segmentation and metric depth for ROS 2."""

__version__ = '0.1.0'
