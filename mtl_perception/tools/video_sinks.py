# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Videos and GIFs of ``mtl_infer``'s stacked frames, written complete or not at all.

Both sinks take RGB frames with ``add``, then either ``close`` (the file appears under its
name) or ``abort`` (nothing is left). An MP4 grows under a hidden name and is read back
before it is renamed, so a disk that filled up half-way is an error, not a short video.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
import tempfile

import cv2
from mtl_perception.native_stderr import native_stderr_silenced
from mtl_perception.safe_output import write_atomically
from mtl_perception.tools.errors import VideoOutputError
import numpy as np
from PIL import Image

#: Tried in order by ``--codec auto``: H.264 where this OpenCV build has an encoder for it,
#: else MPEG-4 Part 2, which every FFmpeg build of OpenCV writes.
CODEC_ORDER = ('avc1', 'mp4v')
GIF_MAX_WIDTH = 480
GIF_MAX_RATE_HZ = 10.0
#: Frames a GIF holds (kept in memory until it is written): 30 s at 10 frames per second.
GIF_MAX_FRAMES = 300

log = logging.getLogger('mtl_infer')


def _open_writer(path: Path, codec: str, fps: float,
                 size: tuple[int, int]) -> cv2.VideoWriter | None:
    with native_stderr_silenced():
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), fps, size)
    if writer.isOpened():
        return writer
    writer.release()
    return None


def _written_codec(path: Path) -> str:
    """Return the sample entry type an MP4 declares (its ``stsd`` box), e.g. ``avc1`` or ``mp4v``.

    OpenCV's ``CAP_PROP_FOURCC`` names the decoder instead (``FMP4`` for ``mp4v``).
    """
    data = path.read_bytes()
    where = data.find(b'stsd')
    return data[where + 16:where + 20].decode('latin-1') if where >= 0 else ''


def choose_codec(requested: str) -> str:
    """Return the codec MP4s are written with.

    That is ``requested``, or for ``auto`` the first of :data:`CODEC_ORDER` this machine can
    write. Each candidate writes a tiny probe video that is read back: FFmpeg silently swaps some
    codes for others (``xvid`` becomes ``mp4v``), and a video in a codec nobody asked for is
    refused rather than delivered.

    Raises:
        ValueError: If the code is not four characters.
        VideoOutputError: If it cannot be written into an MP4 here.
    """
    if requested != 'auto' and (len(requested) != 4 or not requested.isascii()):
        raise ValueError(f'--codec {requested!r}: give a four-character code (FOURCC) '
                         f'such as {" or ".join(CODEC_ORDER)}, or auto')
    candidates = CODEC_ORDER if requested == 'auto' else (requested,)
    with tempfile.TemporaryDirectory(prefix='mtl_codec_probe_') as folder:
        for codec in candidates:
            probe = Path(folder) / f'{codec.strip() or "probe"}.mp4'
            writer = _open_writer(probe, codec, 10.0, (32, 32))
            if writer is None:
                continue
            writer.write(np.zeros((32, 32, 3), np.uint8))
            writer.release()
            written = _written_codec(probe)
            if written.lower() == codec.lower():
                return codec
            if requested != 'auto':
                raise VideoOutputError(
                    f'--codec {requested}: this OpenCV build writes it into an MP4 as '
                    f'{written!r} instead; ask for that one, or auto')
    raise VideoOutputError(
        f'--codec {requested}: this OpenCV build cannot write '
        f'{"any of " + ", ".join(CODEC_ORDER) if requested == "auto" else "it"} into an MP4'
        + ('; try mp4v or auto' if requested != 'auto' else ''))


class Mp4Sink:
    """One MP4 at ``fps`` frames per second in ``codec`` (see :func:`choose_codec`).

    Frames are padded to even width and height (H.264 needs both even); a frame of another
    size than the first is scaled to it, with one warning.
    """

    def __init__(self, path: Path, codec: str, fps: float) -> None:
        self.path = path
        self._codec = codec
        self._fps = fps
        self._partial = path.with_name(f'.{path.stem}.partial{path.suffix}')
        self._partial.unlink(missing_ok=True)  # left by a run that was killed (SIGKILL)
        self._writer: cv2.VideoWriter | None = None
        self._size = (0, 0)
        self._frames = 0
        self._warned_size = False

    def add(self, rgb: np.ndarray) -> None:
        """Append one RGB frame.

        Raises:
            VideoOutputError: If the writer cannot be opened at the output path.
        """
        height, width = rgb.shape[:2]
        if self._writer is None:
            self._size = (width + width % 2, height + height % 2)
            self._writer = _open_writer(self._partial, self._codec, self._fps, self._size)
            if self._writer is None:
                raise VideoOutputError(f'{self.path}: cannot be opened for writing with codec '
                                       f'{self._codec}')
        self._write(rgb)

    def _write(self, rgb: np.ndarray) -> None:
        height, width = rgb.shape[:2]
        if (width + width % 2, height + height % 2) != self._size:
            if not self._warned_size:
                log.warning("%s: frames of %dx%d are scaled to the first frame's %dx%d",
                            self.path.name, width, height, *self._size)
                self._warned_size = True
            rgb = cv2.resize(rgb, self._size, interpolation=cv2.INTER_AREA)
        if rgb.shape[1::-1] != self._size:  # an odd side: one black row or column
            padded = np.zeros((self._size[1], self._size[0], 3), np.uint8)
            padded[:rgb.shape[0], :rgb.shape[1]] = rgb
            rgb = padded
        with native_stderr_silenced():  # a full disk: FFmpeg's warnings; close() says it once
            self._writer.write(np.ascontiguousarray(rgb[:, :, ::-1]))
        self._frames += 1

    def close(self) -> Path | None:
        """Finish the video and give it its name; None when no frame was added.

        Raises:
            VideoOutputError: If fewer frames than were added can be read back (a full disk).
        """
        if self._writer is None:
            return None
        with native_stderr_silenced():
            self._writer.release()
        self._writer = None
        with native_stderr_silenced():
            capture = cv2.VideoCapture(str(self._partial))
        try:
            readable = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
        finally:
            capture.release()
        if readable != self._frames:
            self._partial.unlink(missing_ok=True)
            raise VideoOutputError(f'{self.path}: only {readable} of {self._frames} frames '
                                   'reached the file (is the disk full?); nothing written')
        os.replace(self._partial, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the video: nothing is left under the output name or the hidden one."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        self._partial.unlink(missing_ok=True)


class GifSink:
    """A small looping GIF.

    At most :data:`GIF_MAX_WIDTH` wide and :data:`GIF_MAX_RATE_HZ` frames per second (frames
    are skipped evenly to get there), at most :data:`GIF_MAX_FRAMES` frames.
    """

    def __init__(self, path: Path, fps: float) -> None:
        self.path = path
        self._step = max(1, math.ceil(fps / GIF_MAX_RATE_HZ - 1e-9))
        self._duration_ms = max(20, round(1000.0 * self._step / fps))
        self._frames: list[Image.Image] = []
        self._seen = 0
        self.truncated = False

    def add(self, rgb: np.ndarray) -> None:
        """Offer one RGB frame; every ``step``-th is kept, scaled and reduced to a palette."""
        self._seen += 1
        if (self._seen - 1) % self._step:
            return
        if len(self._frames) >= GIF_MAX_FRAMES:
            self.truncated = True
            return
        height, width = rgb.shape[:2]
        if self._frames:
            size = self._frames[0].size  # Pillow wants every frame of a GIF the same size
        elif width > GIF_MAX_WIDTH:
            size = (GIF_MAX_WIDTH, max(1, round(height * GIF_MAX_WIDTH / width)))
        else:
            size = (width, height)
        if size != (width, height):
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        self._frames.append(Image.fromarray(np.ascontiguousarray(rgb)).quantize(
            256, dither=Image.Dither.NONE))  # dithering noise defeats GIF compression

    def close(self) -> Path | None:
        """Write the GIF under its name; None when no frame was kept."""
        if not self._frames:
            return None
        first, *rest = self._frames
        write_atomically(self.path, lambda stream: first.save(
            stream, format='GIF', save_all=True, append_images=rest,
            duration=self._duration_ms, loop=0))
        if self.truncated:
            log.warning('%s shows only the first %d frames (%.0f s); --start, --every and '
                        '--max-frames choose which part', self.path.name, GIF_MAX_FRAMES,
                        GIF_MAX_FRAMES * self._duration_ms / 1000.0)
        self._frames.clear()
        return self.path

    def abort(self) -> None:
        """Drop the GIF: nothing is written."""
        self._frames.clear()
