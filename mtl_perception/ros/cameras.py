# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The node's cameras: their names, their topics and what the node keeps for each.

One node serves any number of cameras (parameter ``cameras``). The unnamed camera ``''``
(the default) uses the topics of a one-camera node: ``image``, ``camera_info`` in,
``~/segmentation``, ``~/depth/image``, ... out. A named camera ``front`` uses
``front/image`` and ``front/camera_info`` (remappable, as any relative name) and publishes
under ``~/front/``. The names are checked with the other parameters
(:func:`mtl_perception.ros.parameters.check_camera_names`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
import threading
import time

from mtl_perception.formats.rectification import Rectifier
from mtl_perception.ros.output_topics import Outputs
from mtl_perception.ros.outputs import OutputBuilder
from mtl_perception.ros.stats import FrameStats
from sensor_msgs.msg import CameraInfo, Image

MAX_CAMERA_FRAMES = 64  # camera frame ids whose latest CameraInfo is kept, per camera


def input_topic(camera: str, topic: str) -> str:
    """Return the relative topic a camera reads, e.g. ``image`` or ``front/image``."""
    return f'{camera}/{topic}' if camera else topic


def camera_label(camera: str) -> str:
    """Name a camera in a log line (empty for the unnamed camera)."""
    return f'camera {camera}: ' if camera else ''


class CameraInfoStore:
    """The latest CameraInfo of each camera frame id, for at most ``MAX_CAMERA_FRAMES`` ids."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._infos: dict[str, CameraInfo] = {}

    def put(self, msg: CameraInfo) -> None:
        """Keep ``msg`` as its frame's latest; forget the oldest frame id beyond the bound."""
        with self._lock:
            frame = msg.header.frame_id
            if frame not in self._infos and len(self._infos) >= MAX_CAMERA_FRAMES:
                del self._infos[next(iter(self._infos))]
            self._infos[frame] = msg

    def get(self, frame_id: str) -> CameraInfo | None:
        """Return the latest CameraInfo of ``frame_id``, if any came."""
        with self._lock:
            return self._infos.get(frame_id)


@dataclass
class CameraChannel:
    """What the node keeps for one camera: its statistics live as long as the node.

    ``image_topic``, ``frame_type``, ``outputs`` and ``builder`` (its own: message memory is
    kept per frame size) exist while the node's interfaces are open.
    """

    name: str
    camera_infos: CameraInfoStore = field(default_factory=CameraInfoStore)
    stats: FrameStats = field(default_factory=FrameStats)
    rectifier: Rectifier = field(default_factory=Rectifier)
    image_topic: str = ''
    frame_type: type = Image  # what the image topic carries: Image or CompressedImage
    outputs: Outputs | None = None
    builder: OutputBuilder | None = None
    last_input: float = field(default_factory=time.monotonic)  # of the last frame (or start)
