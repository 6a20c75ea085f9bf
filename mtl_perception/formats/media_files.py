# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Image and video files read as the tools need them: size first, damage named.

An image's size is read from its header (no pixel is decoded for that) and checked before
it is decoded: a 1 MB PNG can declare 20000 x 20000 pixels, 1.2 GB decoded and tens of GB in
a teacher. A video is decoded with OpenCV (FFmpeg), whose own complaints ("overread",
"moov atom not found") are kept off the terminal; a video that ends before the frame count
its container states is truncated or damaged, which :meth:`VideoFile.shortfall` says.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import io
from pathlib import Path
import warnings

import cv2
from mtl_perception.errors import ConversionError, FrameTooLargeError, MediaFileError
from mtl_perception.formats.compressed import JPEG_START, PNG_SIGNATURE, read_header
from mtl_perception.native_stderr import native_stderr_silenced
import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = frozenset({'.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.ppm', '.pgm',
                            '.webp'})
VIDEO_SUFFIXES = frozenset({'.mp4', '.avi', '.mkv', '.mov', '.webm', '.mpg', '.mpeg', '.m4v'})
#: Containers without a frame index: OpenCV estimates their frame count from the duration,
#: which can be a frame or two off; a shortfall is damage only beyond that.
ESTIMATED_COUNT_SUFFIXES = frozenset({'.mkv', '.webm', '.mpg', '.mpeg'})
ESTIMATE_TOLERANCE = 2


def image_size(data: bytes, name: str) -> tuple[int, int]:
    """Return ``(width, height)`` an encoded image declares in its header, decoding no pixel.

    PNG and JPEG headers are read by :func:`~mtl_perception.formats.compressed.read_header`
    (exact, whatever the size); other formats by Pillow.

    Raises:
        FrameTooLargeError: Pillow refuses even to size it (hundreds of megapixels).
        MediaFileError: Not an image of a known format, or a damaged header; names ``name``.
    """
    if data.startswith((PNG_SIGNATURE, JPEG_START)):
        try:
            header = read_header(data)
        except ConversionError as error:
            raise MediaFileError(f'{name}: cannot be decoded as an image ({error})') from None
        return header.width, header.height
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)  # sized below
            with Image.open(io.BytesIO(data)) as image:
                return image.size
    except Image.DecompressionBombError:
        raise FrameTooLargeError(f'{name}: declares more than {2 * Image.MAX_IMAGE_PIXELS} '
                                 'pixels; it was not decoded') from None
    except (OSError, UnidentifiedImageError, ValueError) as error:
        raise MediaFileError(f'{name}: cannot be decoded as an image ({_first_line(error)})'
                             ) from None


def read_image_file(path: Path, max_pixels: int) -> np.ndarray:
    """Decode an image file to ``HxWx3`` BGR uint8 after checking its declared size.

    Raises:
        FrameTooLargeError: It declares more than ``max_pixels`` pixels (nothing decoded).
        MediaFileError: It cannot be read, is not an image, or does not decode.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise MediaFileError(f'{path}: cannot be read ({error.strerror or error})') from None
    width, height = image_size(data, str(path))
    if width * height > max_pixels:
        raise FrameTooLargeError(f'{path}: a {width}x{height} image has more than '
                                 f'{max_pixels} pixels (the limit); it was not decoded')
    with native_stderr_silenced():
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise MediaFileError(f'{path}: cannot be decoded as an image')
    return bgr


class VideoFile:
    """A video file, opened quietly, read frame by frame; counts what decoded.

    Raises:
        MediaFileError: The file cannot be opened as a video.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with native_stderr_silenced():
            capture = cv2.VideoCapture(str(self.path))
        try:
            if not capture.isOpened():
                raise MediaFileError(f'{self.path}: cannot be opened as a video')
            self.fps = float(capture.get(cv2.CAP_PROP_FPS))
            self.stated_frames = max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
        finally:
            capture.release()
        self.frames_read = 0

    def frames(self, decode: Callable[[int], bool]) -> Iterator[tuple[int, np.ndarray | None]]:
        """Yield ``(index, BGR frame)`` for every frame; None for those ``decode`` declines.

        Declined frames are only grabbed (not decoded into an image). Reading ends at the
        first frame that does not decode; :attr:`frames_read` then says how far it got.
        """
        with native_stderr_silenced():
            capture = cv2.VideoCapture(str(self.path))
        self.frames_read = 0
        try:
            while True:
                index = self.frames_read
                wanted = decode(index)
                with native_stderr_silenced():
                    ok, bgr = capture.read() if wanted else (capture.grab(), None)
                if not ok:
                    return
                self.frames_read += 1
                yield index, bgr
        finally:
            capture.release()

    def shortfall(self) -> str | None:
        """Say how the frames read fall short of the container's count, or None if they do not.

        Call it after :meth:`frames` has run to its end.
        """
        stated, read = self.stated_frames, self.frames_read
        tolerance = ESTIMATE_TOLERANCE if self.path.suffix.lower() in ESTIMATED_COUNT_SUFFIXES \
            else 0
        if stated and read < stated - tolerance:
            return (f'{self.path}: truncated or damaged: its container lists {stated} frames '
                    f'but only {read} decode')
        if not read:
            return f'{self.path}: holds no decodable frame'
        return None


def _first_line(error: Exception) -> str:
    return next(iter(str(error).splitlines()), type(error).__name__)
