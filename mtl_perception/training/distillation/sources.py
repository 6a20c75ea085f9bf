# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Where distillation frames come from: image folders, videos and rosbag2 files.

Every source is opened and checked before anything is written (an unreadable video or an
absent topic is one clear error), then iterated lazily: each frame has a stable key (source,
stream and position), and a frame whose key is not wanted (another rank's, or already done)
is skipped without being decoded. ``--every`` keeps every N-th frame of each stream, or one
frame per N seconds (``2.5s``) of stream time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
import hashlib
import math
from pathlib import Path
import re

from mtl_perception.errors import FrameTooLargeError, MediaFileError
from mtl_perception.formats.media_files import (IMAGE_SUFFIXES, read_image_file,
                                                VIDEO_SUFFIXES, VideoFile)
from mtl_perception.formats.ros_images import MAX_FRAME_PIXELS
from mtl_perception.training.errors import DistillError
import numpy as np

Wanted = Callable[[str], bool]


@dataclass
class Frame:
    """One frame to distil.

    Attributes:
        key: Stable file stem: source, stream and position in the stream.
        rgb: ``HxWx3`` uint8 RGB.
        source: The path it came from.
        stream: Topic of a bag, else ``''``.
        index: Position in its stream (before ``--every``).
        stamp_ns: Stream time in nanoseconds (bags: header stamp; videos: frame time).
        intrinsics: ``(fx, fy, cx, cy)`` of the frame when known (a bag's CameraInfo).
        points: ``(N, 3)`` LiDAR points in the camera's optical frame, when the bag has them.
        problem: Why ``rgb`` is empty (the frame is skipped with this reason).
    """

    key: str
    rgb: np.ndarray
    source: str
    stream: str = ''
    index: int = 0
    stamp_ns: int | None = None
    intrinsics: tuple[float, float, float, float] | None = None
    points: np.ndarray | None = None
    problem: str = 'unreadable frame'


@dataclass(frozen=True)
class Every:
    """Keep every ``count``-th frame, or one frame per ``seconds`` of stream time."""

    count: int = 1
    seconds: float | None = None

    @classmethod
    def parse(cls, text: str) -> Every:
        """Read ``--every``: ``N`` (frames) or ``Xs`` (seconds).

        Raises:
            DistillError: Neither form, or not positive.
        """
        match = re.fullmatch(r'\s*(\d+)\s*|\s*(\d+(?:\.\d*)?|\.\d+)\s*s\s*', str(text))
        if not match or (match.group(1) and int(match.group(1)) < 1) or (
                match.group(2) and float(match.group(2)) <= 0):
            raise DistillError(f'--every {text!r}: give a whole number of frames (5) or a '
                               'positive number of seconds (2.5s)')
        return cls(int(match.group(1))) if match.group(1) else cls(seconds=float(match.group(2)))

    def estimate(self, frames: int, seconds: float | None) -> int:
        """About how many of ``frames`` (spanning ``seconds``) are kept, for progress bars."""
        if self.seconds is None or seconds is None:
            return math.ceil(frames / self.count)
        return min(frames, math.ceil(seconds / self.seconds))

    def selector(self) -> Callable[[int, int | None], bool]:
        """Return a per-stream predicate ``(index, stamp_ns) -> keep``."""
        if self.seconds is None:
            return lambda index, stamp: index % self.count == 0
        step = int(self.seconds * 1e9)
        state = {'next': None}

        def keep(index: int, stamp: int | None) -> bool:
            due = state['next']
            if due is not None and stamp < due:
                return False
            base = stamp if due is None else due
            state['next'] = base + step * (1 + (stamp - base) // step)
            return True
        return keep


def stream_key(path: Path, stream: str = '') -> str:
    """Return a readable, collision-free prefix for the frames of one stream of ``path``."""
    digest = hashlib.sha256(f'{path.resolve()}\n{stream}'.encode()).hexdigest()[:8]
    name = re.sub(r'[^A-Za-z0-9]+', '_', f'{path.stem}{stream}').strip('_')[:48]
    return f'{name}-{digest}'


class ImageFolder:
    """The images of a folder (sorted by name), or one image file.

    An image is decoded only when its header declares at most ``max_pixels`` pixels.
    """

    def __init__(self, path: Path, every: Every, max_pixels: int = MAX_FRAME_PIXELS) -> None:
        if every.seconds is not None:
            raise DistillError(f'{path}: --every in seconds needs a video or a bag; images in '
                               'a folder have no time')
        files = ([path] if path.is_file() else
                 sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
        if not files:
            raise DistillError(f'{path}: no images ({", ".join(IMAGE_SUFFIXES)}) in this folder')
        self.path, self.files, self.every, self.max_pixels = path, files, every, max_pixels
        self.prefix = stream_key(path)
        self.damage: list[str] = []  # an image folder has frames, not a stream to cut short

    def estimated_frames(self) -> int:
        """How many frames ``--every`` keeps."""
        return self.every.estimate(len(self.files), None)

    def frames(self, wanted: Wanted) -> Iterator[Frame]:
        """Yield the selected, wanted images; an unreadable one is yielded with no pixels."""
        keep = self.every.selector()
        for index, file in enumerate(self.files):
            key = f'{self.prefix}-{index:06d}'
            if not keep(index, None) or not wanted(key):
                continue
            try:
                rgb = read_image_file(file, self.max_pixels)[..., ::-1].copy()
            except FrameTooLargeError:
                yield Frame(key, _NO_PIXELS, str(file), index=index,
                            problem=f'larger than --max-pixels {self.max_pixels}')
                continue
            except MediaFileError:
                yield Frame(key, _NO_PIXELS, str(file), index=index)
                continue
            yield Frame(key, rgb, str(file), index=index)


class Video:
    """The frames of a video file (decoded with OpenCV).

    A video that ends before the frame count its container lists is truncated or damaged:
    the frames that decoded are distilled, and :attr:`damage` says what is missing.
    """

    def __init__(self, path: Path, every: Every) -> None:
        try:
            video = VideoFile(path)
            readable = next(video.frames(lambda index: index == 0), None) is not None
        except MediaFileError:
            readable = False
        if not readable:
            raise DistillError(f'{path}: not a readable video (OpenCV cannot decode a frame)')
        self.fps, self.count = video.fps, video.stated_frames
        if every.seconds is not None and not self.fps > 0:
            raise DistillError(f'{path}: the video states no frame rate; give --every as a '
                               'number of frames')
        self.path, self.every = path, every
        self.prefix = stream_key(path)
        self.damage: list[str] = []

    def estimated_frames(self) -> int:
        """About how many frames ``--every`` keeps (from the container's frame count)."""
        return self.every.estimate(self.count, self.count / self.fps if self.fps > 0 else None)

    def frames(self, wanted: Wanted) -> Iterator[Frame]:
        """Yield the selected, wanted frames; the others are only grabbed, not decoded."""
        keep = self.every.selector()
        video = VideoFile(self.path)
        chosen: dict[int, tuple[str, int | None]] = {}

        def decode(index: int) -> bool:
            stamp = int(index / self.fps * 1e9) if self.fps > 0 else None
            key = f'{self.prefix}-{index:06d}'
            if keep(index, stamp) and wanted(key):
                chosen[index] = key, stamp
                return True
            return False

        for index, bgr in video.frames(decode):
            if index in chosen:
                key, stamp = chosen.pop(index)
                yield Frame(key, bgr[..., ::-1].copy(), str(self.path), index=index,
                            stamp_ns=stamp)
        problem = video.shortfall()
        self.damage = [problem] if problem else []


_NO_PIXELS = np.empty((0, 0, 3), np.uint8)


def is_bag(path: Path) -> bool:
    """Whether ``path`` is a rosbag2 folder (it holds ``metadata.yaml``)."""
    return path.is_dir() and (path / 'metadata.yaml').is_file()


def open_source(path: Path, every: Every,
                max_pixels: int = MAX_FRAME_PIXELS) -> ImageFolder | Video:
    """Open an image folder, an image or a video.

    Raises:
        DistillError: Missing path, or one that is none of these.
    """
    if not path.exists():
        raise DistillError(f'--source {path}: no such file or folder')
    if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageFolder(path, every, max_pixels)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return Video(path, every)
    raise DistillError(f'--source {path}: not an image folder, an image, a video '
                       f'({", ".join(VIDEO_SUFFIXES)}) or a rosbag2 folder')
