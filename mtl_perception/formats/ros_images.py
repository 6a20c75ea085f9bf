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
from mtl_perception.errors import ConversionError
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


def image_to_array(msg: Any) -> np.ndarray:
    """Decode an Image into ``HxW`` (one channel) or ``HxWxC`` numpy, a view where possible.

    Row padding (``step`` larger than a row) is skipped by striding, and big-endian data of
    multi-byte encodings is byte-swapped into native order (the only case that copies).

    Raises:
        ConversionError: Unknown encoding, zero size, a ``step`` shorter than a row, or
            ``data`` shorter than ``height * step``; the message names the field.
    """
    layout = encoding_layout(msg.encoding)
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height == 0 or width == 0:
        raise ConversionError(f'image has zero size: height={height}, width={width}')
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
    pixels = image_to_array(msg)
    encoding = msg.encoding
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
    if encoding in ('mono8', '8UC1'):
        return np.repeat(pixels[..., None], 3, axis=2)
    raise ConversionError(
        f'image encoding {encoding!r} is not a camera image; the network takes '
        f'{", ".join(COLOUR_ENCODINGS)}')


def compressed_to_rgb(msg: Any) -> np.ndarray:
    """Decode a ``sensor_msgs/CompressedImage`` (JPEG, PNG, ...) to ``HxWx3`` RGB uint8.

    Raises:
        ConversionError: Depth-compressed data, or bytes that do not decode; names the format.
    """
    if 'compressedDepth' in msg.format:
        raise ConversionError(f'compressed image format {msg.format!r} is a depth image, not '
                              'a camera image')
    data = np.frombuffer(msg.data, dtype=np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if bgr is None:
        raise ConversionError(f'compressed image ({len(data)} bytes, format {msg.format!r}) '
                              'does not decode as JPEG or PNG')
    return bgr[..., ::-1]
