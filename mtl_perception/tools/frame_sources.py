# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Where ``mtl_infer``'s frames come from: videos, folders of images and loose image files.

Inputs become *sequences* (one per video, one per folder, one for all loose image files), each
with a name for its outputs and a frame rate for its video; ``--start``, ``--every`` and
``--max-frames`` pick frames within each sequence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
import math
from pathlib import Path

from mtl_perception.errors import FrameTooLargeError, MediaFileError
from mtl_perception.formats.media_files import (IMAGE_SUFFIXES, read_image_file,
                                                VIDEO_SUFFIXES, VideoFile)
from mtl_perception.formats.ros_images import MAX_FRAME_PIXELS
from mtl_perception.tools.errors import UnreadableInputError
import numpy as np


@dataclass(frozen=True)
class FrameSelection:
    """Which frames of a sequence are processed.

    From ``start``, every ``every``-th, at most ``max_frames`` of them (all when None).
    """

    start: int = 0
    every: int = 1
    max_frames: int | None = None

    def picks(self, index: int) -> bool:
        """Whether the frame at ``index`` (0-based, in the sequence) is one to process."""
        return index >= self.start and (index - self.start) % self.every == 0

    def count(self, available: int) -> int:
        """How many of ``available`` frames are processed."""
        picked = max(0, math.ceil((available - self.start) / self.every))
        return picked if self.max_frames is None else min(picked, self.max_frames)


@dataclass(frozen=True)
class Sequence:
    """Frames that belong together: one video, or images in order; ``name`` names outputs."""

    name: str
    video: Path | None = None
    images: tuple[Path, ...] = ()
    image_names: tuple[str, ...] = ()

    @property
    def is_video(self) -> bool:
        """Whether the frames come from a video file (else from images)."""
        return self.video is not None

    def frame_count(self) -> int:
        """Frames in the sequence: the container's count for a video (0 if it cannot say)."""
        if self.video is None:
            return len(self.images)
        try:
            return VideoFile(self.video).stated_frames
        except MediaFileError:
            return 0

    def frame_rate(self, fallback: float) -> float:
        """Return the video's frame rate, or ``fallback`` for images and silent videos."""
        if self.video is None:
            return fallback
        try:
            rate = VideoFile(self.video).fps
        except MediaFileError:
            return fallback
        return rate if math.isfinite(rate) and 0.0 < rate <= 1000.0 else fallback

    def frames(self, selection: FrameSelection, skip: Callable[[UnreadableInputError], None]
               ) -> Iterator[tuple[str, np.ndarray]]:
        """Yield ``(output name, BGR image)`` for the selected frames.

        Video frames are named ``<sequence>_<index in the video>``, images as
        :func:`collect_sequences` named them. An image that cannot be decoded, or declares
        more than ``MAX_FRAME_PIXELS`` pixels in its header, is passed to ``skip`` and the
        sequence goes on.

        Raises:
            UnreadableInputError: If a video cannot be opened, holds no decodable frame, or
                ends before the frame count its container lists (truncated, damaged), after
                the frames that did decode.
        """
        if self.video is not None:
            yield from _video_frames(self.video, self.name, selection)
            return
        taken = 0
        for index, (path, name) in enumerate(zip(self.images, self.image_names)):
            if selection.max_frames is not None and taken >= selection.max_frames:
                return
            if not selection.picks(index):
                continue
            try:
                image = read_image_file(path, MAX_FRAME_PIXELS)
            except (MediaFileError, FrameTooLargeError) as error:
                skip(UnreadableInputError(str(error)))
                continue
            taken += 1
            yield name, image


def _video_frames(path: Path, name: str,
                  selection: FrameSelection) -> Iterator[tuple[str, np.ndarray]]:
    try:
        video = VideoFile(path)
    except MediaFileError as error:
        raise UnreadableInputError(str(error)) from None
    taken = 0
    for index, frame in video.frames(selection.picks):
        if frame is not None:
            taken += 1
            yield f'{name}_{index:06d}', frame
            if selection.max_frames is not None and taken >= selection.max_frames:
                return  # the rest is not read: whether it decodes is not known
    problem = video.shortfall()
    if problem is not None:
        raise UnreadableInputError(problem)


def collect_sequences(paths: list[Path]) -> list[Sequence]:
    """Turn the command line's inputs into sequences, checking that every input exists.

    Each video and each folder (its images, sorted by name) is a sequence; all image files
    named directly form one more, in the order given, named after their folder when they share
    one (``frames/*.png`` gives ``frames``) and ``images`` otherwise. Folders without images
    are left out. Images are named by their stems, made distinct over all inputs.

    Raises:
        FileNotFoundError: If an input does not exist.
        ValueError: If a file's type is not a known image or video suffix.
    """
    named: list[tuple[Path, Path | None, tuple[Path, ...]]] = []
    loose: list[Path] = []
    for path in paths:
        if path.is_dir():
            images = tuple(sorted(p for p in path.iterdir()
                                  if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()))
            if images:
                named.append((path, None, images))
        elif not path.exists():
            raise FileNotFoundError(f'input {str(path)!r} does not exist')
        elif path.suffix.lower() in VIDEO_SUFFIXES:
            named.append((path, path, ()))
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            loose.append(path)
        else:
            raise ValueError(
                f'input {str(path)!r} is neither an image ({sorted(IMAGE_SUFFIXES)}) nor a '
                f'video ({sorted(VIDEO_SUFFIXES)})')
    if loose:
        parents = {p.resolve().parent for p in loose}
        folder = next(iter(parents)) if len(parents) == 1 else Path('images')
        named.append((folder, None, tuple(loose)))
    names = distinct_names([where for where, _, _ in named])
    image_names = iter(distinct_names([image for _, _, images in named for image in images]))
    return [Sequence(name, video, images, tuple(next(image_names) for _ in images))
            for name, (_, video, images) in zip(names, named)]


def distinct_names(paths: list[Path]) -> list[str]:
    """Give every path a distinct output name: its stem, or ``folder_stem`` where stems clash.

    Two ``frame.png`` from different folders would otherwise overwrite each other's outputs.
    """
    stems: dict[str, int] = {}
    for path in paths:
        stems[path.stem] = stems.get(path.stem, 0) + 1
    names: list[str] = []
    taken: set[str] = set()
    for path in paths:
        name = path.stem if stems[path.stem] == 1 else f'{path.parent.name}_{path.stem}'
        base, number = name, 1
        while name in taken:
            number += 1
            name = f'{base}_{number}'
        taken.add(name)
        names.append(name)
    return names
