# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Camera pixels of ``sensor_msgs/Image`` and ``CompressedImage``, decoded without ROS.

The functions read the messages' fields only (``encoding``, ``height``, ``width``, ``step``,
``is_bigendian``, ``data``; ``format``, ``data``), so they take rclpy's message classes and
the ones ``rosbags`` deserialises alike: the node, the bag tools and distillation from bags
decode frames the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
from mtl_perception.errors import ConversionError, FrameTooLargeError, FrameTooSmallError
from mtl_perception.formats.compressed import decode_compressed
import numpy as np


@dataclass(frozen=True)
class Encoding:
    """Memory layout of one ``sensor_msgs/Image`` encoding."""

    dtype: np.dtype
    channels: int


ENCODINGS: dict[str, Encoding] = {
    'rgb8': Encoding(np.dtype(np.uint8), 3),
    'bgr8': Encoding(np.dtype(np.uint8), 3),
    'rgba8': Encoding(np.dtype(np.uint8), 4),
    'bgra8': Encoding(np.dtype(np.uint8), 4),
    'mono8': Encoding(np.dtype(np.uint8), 1),
    '8UC1': Encoding(np.dtype(np.uint8), 1),
    'mono16': Encoding(np.dtype(np.uint16), 1),
    '16UC1': Encoding(np.dtype(np.uint16), 1),
    '32FC1': Encoding(np.dtype(np.float32), 1),
    '32FC3': Encoding(np.dtype(np.float32), 3),
    'rgb16': Encoding(np.dtype(np.uint16), 3),
    'bgr16': Encoding(np.dtype(np.uint16), 3),
    'yuv422': Encoding(np.dtype(np.uint8), 2),
    'uyvy': Encoding(np.dtype(np.uint8), 2),
    'yuv422_yuy2': Encoding(np.dtype(np.uint8), 2),
    'yuyv': Encoding(np.dtype(np.uint8), 2),
    'bayer_rggb8': Encoding(np.dtype(np.uint8), 1),
    'bayer_bggr8': Encoding(np.dtype(np.uint8), 1),
    'bayer_gbrg8': Encoding(np.dtype(np.uint8), 1),
    'bayer_grbg8': Encoding(np.dtype(np.uint8), 1),
}
#: OpenCV conversions of the camera encodings that need one (sensor_msgs/image_encodings:
#: ``yuv422`` is UYVY, ``yuv422_yuy2`` is YUYV; Bayer patterns by their first row pair).
_TO_RGB = {
    'yuv422': cv2.COLOR_YUV2RGB_UYVY, 'uyvy': cv2.COLOR_YUV2RGB_UYVY,
    'yuv422_yuy2': cv2.COLOR_YUV2RGB_YUYV, 'yuyv': cv2.COLOR_YUV2RGB_YUYV,
    'bayer_rggb8': cv2.COLOR_BayerRGGB2RGB, 'bayer_bggr8': cv2.COLOR_BayerBGGR2RGB,
    'bayer_gbrg8': cv2.COLOR_BayerGBRG2RGB, 'bayer_grbg8': cv2.COLOR_BayerGRBG2RGB,
}
#: Frames with more pixels are refused (raw ones by their header fields, compressed ones by
#: the size their header declares, before decoding): the node's ``max_input_pixels`` default.
MAX_FRAME_PIXELS = 4096 * 4096
#: Fewer pixels on a side are no camera's image (a 1x1 frame has been seen on the wire); the
#: same frames are refused whatever outputs are wanted.
MIN_FRAME_SIDE = 8
YUV422 = ('yuv422', 'uyvy', 'yuv422_yuy2', 'yuyv')
COLOUR_ENCODINGS = ('rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8', '8UC1', 'mono16', 'rgb16',
                    'bgr16', *_TO_RGB)


def encoding_layout(name: str) -> Encoding:
    """Return the memory layout of the Image encoding ``name``.

    Raises:
        ConversionError: Unknown encoding; lists the supported ones.
    """
    try:
        return ENCODINGS[name]
    except KeyError:
        raise ConversionError(
            f'unsupported image encoding {name!r}; supported: {sorted(ENCODINGS)}') from None


def check_geometry(encoding: str, width: int, height: int) -> None:
    """Refuse sizes an encoding cannot have: 4:2:2 pairs columns, Bayer tiles 2x2.

    Raises:
        ConversionError: Names the encoding and the odd dimension.
    """
    if encoding in YUV422 and width % 2:
        raise ConversionError(f'a {encoding} (YUV 4:2:2) image must have an even width, '
                              f'this one is {width} wide')
    if encoding.startswith('bayer_') and (width % 2 or height % 2):
        raise ConversionError(f'a {encoding} image is made of 2x2 tiles and must have an '
                              f'even width and height, this one is {width}x{height}')


def image_to_array(msg: Any) -> np.ndarray:
    """Decode an Image into ``HxW`` (one channel) or ``HxWxC`` numpy, a view where possible.

    Row padding (``step`` larger than a row) is skipped by striding, and big-endian data of
    multi-byte encodings is byte-swapped into native order (the only case that copies).

    Raises:
        ConversionError: Unknown encoding, zero size, a size the encoding cannot have (odd
            4:2:2 width, odd Bayer size), a ``step`` shorter than a row, or ``data`` shorter
            than ``height * step``; the message names the field.
    """
    layout = encoding_layout(msg.encoding)
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height == 0 or width == 0:
        raise ConversionError(f'image has zero size: height={height}, width={width}')
    check_geometry(msg.encoding, width, height)
    row_bytes = width * layout.channels * layout.dtype.itemsize
    if step < row_bytes:
        raise ConversionError(
            f'image step {step} is shorter than a row of {width} {msg.encoding} pixels '
            f'({row_bytes} bytes)')
    buffer = np.frombuffer(msg.data, dtype=np.uint8)
    needed = height * step
    if buffer.size < needed:
        raise ConversionError(
            f'image data holds {buffer.size} bytes, fewer than height * step = '
            f'{height} * {step} = {needed} (truncated message?)')
    rows = buffer[:needed].reshape(height, step)[:, :row_bytes]
    dtype = layout.dtype.newbyteorder('>' if msg.is_bigendian else '<')
    pixels = rows.view(dtype)
    if not dtype.isnative:
        pixels = pixels.astype(layout.dtype)
    shape = (height, width) if layout.channels == 1 else (height, width, layout.channels)
    return pixels.reshape(shape)


def image_to_rgb(msg: Any) -> np.ndarray:
    """Decode a camera Image to ``HxWx3`` RGB uint8 (what the network eats).

    8-bit RGB/BGR(A) and mono come back as views; Bayer mosaics are demosaiced and YUV 4:2:2
    converted with OpenCV; 16-bit images keep their high byte (``value / 256``, as
    cv_bridge converts them to 8 bits).
    """
    encoding = msg.encoding
    if encoding not in COLOUR_ENCODINGS:
        known = 'is not a camera image' if encoding in ENCODINGS else (
            'is not a camera image encoding this package knows')
        raise ConversionError(f'image encoding {encoding!r} {known}; the network takes '
                              f'{", ".join(COLOUR_ENCODINGS)}')
    pixels = image_to_array(msg)
    if encoding in _TO_RGB:
        return cv2.cvtColor(np.ascontiguousarray(pixels), _TO_RGB[encoding])
    if encoding in ('mono16', 'rgb16', 'bgr16'):
        pixels = (pixels >> 8).astype(np.uint8)
        if encoding == 'mono16':
            return np.repeat(pixels[..., None], 3, axis=2)
        return pixels if encoding == 'rgb16' else pixels[..., ::-1]
    if encoding == 'rgb8':
        return pixels
    if encoding == 'bgr8':
        return pixels[..., ::-1]
    if encoding == 'rgba8':
        return pixels[..., :3]
    if encoding == 'bgra8':
        return pixels[..., 2::-1]
    return np.repeat(pixels[..., None], 3, axis=2)  # mono8, 8UC1


def compressed_to_rgb(msg: Any, max_pixels: int) -> np.ndarray:
    """Decode a ``sensor_msgs/CompressedImage`` (JPEG or PNG) to ``HxWx3`` RGB uint8.

    The size declared in the header is checked against ``max_pixels`` before decoding, and
    decoding is strict (see :mod:`mtl_perception.formats.compressed`).

    Raises:
        FrameTooLargeError: The payload or the declared size is over the limit.
        ConversionError: Depth-compressed data, or bytes that are not a sound JPEG or PNG.
    """
    if 'compressedDepth' in msg.format:
        raise ConversionError(f'compressed image format {msg.format!r} is a depth image, not '
                              'a camera image')
    if len(msg.data) > 3 * max_pixels:
        raise FrameTooLargeError(f'a compressed frame of {len(msg.data)} bytes is larger '
                                 f'than max_input_pixels={max_pixels} raw pixels')
    return decode_compressed(bytes(msg.data), max_pixels)


def frame_to_rgb(msg: Any, max_pixels: int) -> np.ndarray:
    """Decode a camera frame, raw ``Image`` or ``CompressedImage``, within ``max_pixels``.

    The one decoding path of the node, ``mtl_process_bag`` and distillation from bags.

    Raises:
        FrameTooLargeError: The frame has (or declares) more than ``max_pixels`` pixels.
        FrameTooSmallError: The frame is under ``MIN_FRAME_SIDE`` pixels on a side.
        ConversionError: The message cannot be decoded; names the field or cause.
    """
    if hasattr(msg, 'format'):
        rgb = compressed_to_rgb(msg, max_pixels)
        _refuse_tiny(rgb.shape[1], rgb.shape[0])
        return rgb
    if int(msg.height) * int(msg.width) > max_pixels:
        raise FrameTooLargeError(f'a {msg.width}x{msg.height} frame has more than '
                                 f'max_input_pixels={max_pixels} pixels')
    _refuse_tiny(int(msg.width), int(msg.height))
    return image_to_rgb(msg)


def _refuse_tiny(width: int, height: int) -> None:
    """Refuse a frame under ``MIN_FRAME_SIDE`` pixels on a side, before it goes anywhere."""
    if min(width, height) < MIN_FRAME_SIDE:
        raise FrameTooSmallError(f'a {width}x{height} frame is smaller than '
                                 f'{MIN_FRAME_SIDE}x{MIN_FRAME_SIDE} pixels: not a camera image')
