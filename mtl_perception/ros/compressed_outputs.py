# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Compressed forms of the output images, as image_transport's plugins write them.

For viewing over Wi-Fi and for recording: ``compressed`` (compressed_image_transport: JPEG of
colour images, format ``"rgb8; jpeg compressed bgr8"``; lossless PNG of class ids, format
``"mono8; png compressed "``) and ``compressedDepth`` (compressed_depth_image_transport's
inverse-depth PNG, format ``"32FC1; compressedDepth png"``), so ``image_transport``
republishers, rviz2 and rqt decode them as they decode a camera's.
"""

from __future__ import annotations

import cv2
from mtl_perception.errors import ConversionError
from mtl_perception.formats.compressed_depth import encode_compressed_depth, PNG_LEVEL
from mtl_perception.formats.ros_images import image_to_array
import numpy as np
from sensor_msgs.msg import CompressedImage, Image

JPEG_QUALITY = 90


def jpeg_message(image: Image) -> CompressedImage:
    """Encode an ``rgb8`` output image as JPEG, in compressed_image_transport's format."""
    bgr = np.ascontiguousarray(image_to_array(image)[..., ::-1])
    return _message(image, f'{image.encoding}; jpeg compressed bgr8',
                    _encode('.jpg', bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]))


def png_message(image: Image) -> CompressedImage:
    """Encode a ``mono8`` output image (class ids) as lossless PNG.

    In compressed_image_transport's format: its publisher appends no target encoding for
    single-channel images.
    """
    return _message(image, f'{image.encoding}; png compressed ',
                    _encode('.png', image_to_array(image), [cv2.IMWRITE_PNG_COMPRESSION,
                                                            PNG_LEVEL]))


def compressed_depth_message(depth: Image, depth_max: float) -> CompressedImage:
    """Encode the ``32FC1`` depth image as compressed_depth_image_transport's PNG.

    ``depth_max`` is the model's far limit: the format quantises inverse depth up to it.
    """
    data = encode_compressed_depth(image_to_array(depth), depth_max)
    return _message(depth, f'{depth.encoding}; compressedDepth png', data)


def _encode(extension: str, pixels: np.ndarray, parameters: list[int]) -> bytes:
    ok, encoded = cv2.imencode(extension, pixels, parameters)
    if not ok:
        raise ConversionError(f'{extension} encoding of a {pixels.shape} image failed')
    return encoded.tobytes()


def _message(image: Image, format_: str, data: bytes) -> CompressedImage:
    message = CompressedImage(header=image.header, format=format_)
    message.data = data
    return message
