"""The ROS 2 layer: the only subpackage that imports rclpy and ROS message types."""
