# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""JPEG and PNG camera frames: size read from the header, pixels decoded strictly.

A frame's declared size is known before a single pixel is decoded, so a tiny file that
declares 20000x20000 is refused without allocating anything. Decoding is strict: a damaged
JPEG (libjpeg's recoverable "Corrupt JPEG data" warnings, which otherwise grey-fill the
missing rows and only print to stderr) and a PNG whose chunks fail their CRC are refused,
and orientation metadata (EXIF) is ignored: a camera's pixels are taken as they are.

What the formats cannot guarantee: a PNG from which whole chunks were removed passes the CRC
walk (libpng then refuses it while decoding), and JPEG carries no checksum, so a bit flipped
inside the entropy-coded data that still decodes cleanly cannot be detected.
"""

from __future__ import annotations

from dataclasses import dataclass
import struct
import zlib

import cv2
from mtl_perception.errors import ConversionError, FrameTooLargeError
import numpy as np
import simplejpeg

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
JPEG_START = b'\xff\xd8'


@dataclass(frozen=True)
class CompressedHeader:
    """What a compressed frame declares before decoding: its format and size."""

    kind: str  # 'jpeg' or 'png'
    width: int
    height: int


def read_header(data: bytes) -> CompressedHeader:
    """Read the format and size of a JPEG or PNG without decoding pixels.

    A PNG's chunk structure and CRCs are checked here too (cheap, and it catches truncation).

    Raises:
        ConversionError: Neither JPEG nor PNG, or a header/chunk that does not parse.
    """
    if data.startswith(PNG_SIGNATURE):
        return _png_header(data)
    if data.startswith(JPEG_START):
        try:
            height, width, _, _ = simplejpeg.decode_jpeg_header(data)
        except ValueError as error:
            raise ConversionError(f'a {len(data)}-byte JPEG frame has no readable header '
                                  f'({error})') from None
        return CompressedHeader('jpeg', int(width), int(height))
    raise ConversionError(f'a {len(data)}-byte compressed frame is neither JPEG nor PNG '
                          f'(it starts with {data[:8].hex()})')


def decode_compressed(data: bytes, max_pixels: int) -> np.ndarray:
    """Decode a JPEG or PNG frame to ``HxWx3`` RGB uint8, refusing it before decoding if large.

    Raises:
        FrameTooLargeError: The declared size is over ``max_pixels``.
        ConversionError: Not JPEG/PNG, or damaged; the message names the cause.
    """
    header = read_header(data)
    if header.width * header.height > max_pixels:
        raise FrameTooLargeError(
            f'a {header.kind.upper()} frame declares {header.width}x{header.height}, more '
            f'than max_input_pixels={max_pixels} pixels (refused before decoding)')
    if header.width == 0 or header.height == 0:
        raise ConversionError(f'a {header.kind.upper()} frame declares a zero size '
                              f'({header.width}x{header.height})')
    if header.kind == 'jpeg':
        try:
            return simplejpeg.decode_jpeg(data, colorspace='RGB', strict=True)
        except ValueError as error:
            raise ConversionError(f'damaged JPEG frame ({len(data)} bytes): '
                                  f'{_first_line(error)}') from None
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8),
                       cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None:
        raise ConversionError(f'damaged PNG frame ({len(data)} bytes): its image data does '
                              'not decode (chunks missing?)')
    return np.ascontiguousarray(bgr[..., ::-1])


def _png_header(data: bytes) -> CompressedHeader:
    """Walk the PNG chunks (lengths and CRCs) up to IEND and return IHDR's size."""
    position, size, seen_data = len(PNG_SIGNATURE), None, False
    while True:
        if position + 8 > len(data):
            raise ConversionError(f'damaged PNG frame ({len(data)} bytes): it ends inside a '
                                  f'chunk header at byte {position} (truncated?)')
        length, kind = struct.unpack('>I4s', data[position:position + 8])
        end = position + 12 + length
        if end > len(data):
            raise ConversionError(f'damaged PNG frame ({len(data)} bytes): chunk '
                                  f'{kind!r} at byte {position} declares {length} bytes '
                                  'beyond the end (truncated?)')
        body = data[position + 4:end - 4]
        (crc,) = struct.unpack('>I', data[end - 4:end])
        if zlib.crc32(body) != crc:
            raise ConversionError(f'damaged PNG frame ({len(data)} bytes): chunk {kind!r} '
                                  f'at byte {position} fails its CRC')
        if size is None:
            if kind != b'IHDR' or length < 8:
                raise ConversionError('damaged PNG frame: the first chunk is not IHDR')
            size = struct.unpack('>II', body[4:12])
        seen_data |= kind == b'IDAT'
        if kind == b'IEND':
            break
        position = end
    if not seen_data:
        raise ConversionError('damaged PNG frame: it has no image data (IDAT)')
    width, height = size
    return CompressedHeader('png', int(width), int(height))


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
