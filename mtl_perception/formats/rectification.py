# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Undistort raw camera frames with their CameraInfo, as image_proc's rectify does.

The network and every output assume rectified pixels (a pinhole camera with ``P``'s
intrinsics). A raw frame is remapped with OpenCV's undistortion maps for ``K``, ``D``, ``R``
and ``P``; building the maps costs tens of milliseconds, so they are kept per camera geometry.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import cv2
from mtl_perception.errors import ConversionError
from mtl_perception.formats.camera_info import delivered_size, has_projection
import numpy as np

PINHOLE_MODELS = ('plumb_bob', 'rational_polynomial')
FISHEYE_MODEL = 'equidistant'
MAX_CACHED_GEOMETRIES = 4  # maps of a 4096x4096 camera take about 100 MB


class Rectifier:
    """Rectifies frames of any number of cameras, with maps cached per camera geometry."""

    def __init__(self) -> None:
        self._maps: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()

    def rectify(self, rgb: np.ndarray, info: Any) -> np.ndarray:
        """Return ``rgb`` undistorted into ``info``'s rectified camera (bilinear, black border).

        Raises:
            ConversionError: The CameraInfo is not of the frame's size, has a region of
                interest or binning, or an unsupported distortion model; names which.
        """
        height, width = rgb.shape[:2]
        key = _geometry_key(info)
        maps = self._maps.get(key)
        if maps is None:
            maps = _build_maps(info, width, height)
            self._maps[key] = maps
            if len(self._maps) > MAX_CACHED_GEOMETRIES:
                self._maps.popitem(last=False)
        else:
            self._maps.move_to_end(key)
        if maps[0].shape[:2] != (height, width):
            raise ConversionError(f'rectify: camera_info is for {maps[0].shape[1]}x'
                                  f'{maps[0].shape[0]} images but the frame is {width}x{height}')
        return cv2.remap(rgb, maps[0], maps[1], cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT)


def _geometry_key(info: Any) -> tuple:
    return (str(info.distortion_model), tuple(info.d), tuple(info.k), tuple(info.r),
            tuple(info.p), int(info.width), int(info.height), int(info.binning_x),
            int(info.binning_y), int(info.roi.width), int(info.roi.height))


def _build_maps(info: Any, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Build OpenCV's undistort-rectify maps of ``info`` (fixed-point: the fast remap)."""
    if (info.roi.width and info.roi.height) or max(info.binning_x, info.binning_y) > 1:
        raise ConversionError('rectify: camera_info with a region of interest or binning is '
                              'not supported; rectify the full image (image_proc) instead')
    if delivered_size(info) != (width, height):
        raise ConversionError(f'rectify: camera_info is for {info.width}x{info.height} images '
                              f'but the frame is {width}x{height}')
    k = np.reshape(np.asarray(info.k, dtype=np.float64), (3, 3))
    r = np.reshape(np.asarray(info.r, dtype=np.float64), (3, 3))
    if not r.any():
        r = np.eye(3)
    new_k = (np.reshape(np.asarray(info.p, dtype=np.float64), (3, 4))[:, :3]
             if has_projection(info) else k)
    d = np.asarray(info.d, dtype=np.float64)
    size = (width, height)
    if info.distortion_model in PINHOLE_MODELS:
        return cv2.initUndistortRectifyMap(k, d, r, new_k, size, cv2.CV_16SC2)
    if info.distortion_model == FISHEYE_MODEL:
        return cv2.fisheye.initUndistortRectifyMap(k, d[:4], r, new_k, size, cv2.CV_16SC2)
    raise ConversionError(
        f'rectify: distortion model {info.distortion_model!r} is not supported; use one of '
        f'{", ".join((*PINHOLE_MODELS, FISHEYE_MODEL))}')
