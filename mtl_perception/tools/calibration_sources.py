# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Calibration frames from the user's data: an image folder or image, a video, or a rosbag2.

Up to ``wanted`` frames are taken, spread evenly over the source (every N-th frame). A frame
that cannot be decoded is an error naming it, not a silent gap: calibration is only as good
as the frames it sees.
"""

from __future__ import annotations

from pathlib import Path

import cv2
from mtl_perception.errors import InputImageError
from mtl_perception.formats.ros_images import frame_to_rgb, MAX_FRAME_PIXELS
from mtl_perception.tools.errors import UnreadableInputError
from mtl_perception.tools.frame_sources import collect_sequences, FrameSelection
import numpy as np

IMAGE_TYPES = ('sensor_msgs/msg/Image', 'sensor_msgs/msg/CompressedImage')


def read_calibration_frames(source: Path, wanted: int,
                            topic: str | None = None) -> list[tuple[str, np.ndarray]]:
    """Return up to ``wanted`` ``(name, RGB frame)`` pairs spread over ``source``.

    Raises:
        UnreadableInputError: Missing or unreadable source, or a frame that does not decode.
        InputImageError: A bag without the (one) image topic, or a source of no known kind.
    """
    if not source.exists():
        raise UnreadableInputError(f'calibration source {source}: no such file or folder')
    if source.is_dir() and (source / 'metadata.yaml').is_file():
        return _bag_frames(source, wanted, topic)
    try:
        sequences = collect_sequences([source])
    except ValueError as error:
        raise InputImageError(f'calibration source: {error}') from None
    total = sum(sequence.frame_count() for sequence in sequences)
    every = max(1, total // max(wanted, 1))
    frames = []

    def refuse(error: UnreadableInputError) -> None:
        raise error

    for sequence in sequences:
        for name, bgr in sequence.frames(FrameSelection(every=every), refuse):
            frames.append((name, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
            if len(frames) == wanted:
                return frames
    return frames


def _bag_frames(path: Path, wanted: int, topic: str | None) -> list[tuple[str, np.ndarray]]:
    from rosbags.rosbag2 import Reader
    from rosbags.typesys import get_typestore, Stores

    typestore = get_typestore(Stores.ROS2_HUMBLE)
    try:
        with Reader(path) as reader:
            cameras = {c.topic: c for c in reader.connections if c.msgtype in IMAGE_TYPES}
            if topic is None and len(cameras) != 1:
                raise InputImageError(f'calibration bag {path}: {len(cameras)} image topics '
                                      f'({sorted(cameras) or "none"}); choose one with '
                                      '--calibration-topic')
            chosen = cameras.get(topic or next(iter(cameras)))
            if chosen is None:
                raise InputImageError(f'calibration bag {path}: no image topic {topic!r} (its '
                                      f'image topics: {sorted(cameras) or "none"})')
            every = max(1, chosen.msgcount // max(wanted, 1))
            frames = []
            for index, (_, _, raw) in enumerate(reader.messages(connections=[chosen])):
                if index % every:
                    continue
                name = f'{chosen.topic} message {index}'
                try:
                    message = typestore.deserialize_cdr(raw, chosen.msgtype)
                    frames.append((name, np.ascontiguousarray(
                        frame_to_rgb(message, MAX_FRAME_PIXELS))))
                except Exception as error:  # noqa: B902  any undecodable frame is refused
                    raise UnreadableInputError(f'calibration bag {path}: {name} does not '
                                               f'decode: {" ".join(str(error).split())}'
                                               ) from None
                if len(frames) == wanted:
                    break
    except (InputImageError, UnreadableInputError):
        raise
    except Exception as error:  # noqa: B902  rosbags raises many types for damaged bags
        raise UnreadableInputError(f'calibration source {path}: not a readable rosbag2 '
                                   f'({type(error).__name__}: '
                                   f'{" ".join(str(error).split())[:160]})') from None
    return frames
