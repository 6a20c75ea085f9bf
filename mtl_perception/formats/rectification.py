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
from mtl_perception.camera_model import delivered_size, has_projection, is_reduced
from mtl_perception.errors import ConversionError
import numpy as np

PINHOLE_MODELS = ('plumb_bob', 'rational_polynomial')
FISHEYE_MODEL = 'equidistant'
#: Distortion coefficients each model takes (plumb_bob: k1 k2 t1 t2 [k3]; rational_polynomial:
#: k1 k2 t1 t2 k3 k4 k5 k6; equidistant: k1 k2 k3 k4), as image_geometry reads them.
COEFFICIENTS = {'plumb_bob': (4, 5), 'rational_polynomial': (8,), 'equidistant': (4,)}
#: Least share of the rectified image that must come from inside the raw frame. Real
#: calibrations keep most of it (a wide-angle P shows a black rim); 1e30 in D, or a P of
#: another camera, sends the whole image outside and yields a black frame, not a scene.
MIN_COVERAGE = 0.5
MAX_CACHED_GEOMETRIES = 4  # maps of a 4096x4096 camera take about 100 MB


class Rectifier:
    """Rectifies frames of any number of cameras, with maps cached per camera geometry."""

    def __init__(self) -> None:
        # a geometry's maps, or the refusal of it (kept too: a bad CameraInfo repeats)
        self._maps: OrderedDict[tuple, tuple[np.ndarray, np.ndarray] | ConversionError] = (
            OrderedDict())

    def rectify(self, rgb: np.ndarray, info: Any) -> np.ndarray:
        """Return ``rgb`` undistorted into ``info``'s rectified camera (bilinear, black border).

        Raises:
            ConversionError: The CameraInfo is not of the frame's size, has a region of
                interest or binning, an unsupported distortion model, coefficients of the
                wrong count for it, a non-finite or implausible K, D, R or P; names which.
        """
        height, width = rgb.shape[:2]
        key = _geometry_key(info)
        maps = self._maps.get(key)
        if maps is None:
            try:
                maps = _build_maps(info, width, height)
            except ConversionError as error:
                maps = error
            self._maps[key] = maps
            if len(self._maps) > MAX_CACHED_GEOMETRIES:
                self._maps.popitem(last=False)
        else:
            self._maps.move_to_end(key)
        if isinstance(maps, ConversionError):
            raise maps
        if maps[0].shape[:2] != (height, width):
            raise ConversionError(f'rectify: camera_info is for {maps[0].shape[1]}x'
                                  f'{maps[0].shape[0]} images but the frame is {width}x{height}')
        return cv2.remap(rgb, maps[0], maps[1], cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT)


def _geometry_key(info: Any) -> tuple:
    """Key a camera geometry by its values' bytes (NaN equals NaN there, unlike in floats)."""
    arrays = tuple(np.asarray(values, dtype=np.float64).tobytes()
                   for values in (info.d, info.k, info.r, info.p))
    return (str(info.distortion_model), *arrays, int(info.width), int(info.height),
            is_reduced(info))


def _build_maps(info: Any, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Build OpenCV's undistort-rectify maps of ``info`` (fixed-point: the fast remap)."""
    if is_reduced(info):
        raise ConversionError('rectify: camera_info with a region of interest or binning is '
                              'not supported; rectify the full image (image_proc) instead')
    if delivered_size(info) != (width, height):
        raise ConversionError(f'rectify: camera_info is for {info.width}x{info.height} images '
                              f'but the frame is {width}x{height}')
    k, d, r, new_k = _rectification_matrices(info)
    size = (width, height)
    try:
        if info.distortion_model in PINHOLE_MODELS:
            maps = cv2.initUndistortRectifyMap(k, d, r, new_k, size, cv2.CV_16SC2)
        else:
            maps = cv2.fisheye.initUndistortRectifyMap(k, d, r, new_k, size, cv2.CV_16SC2)
    except cv2.error as error:
        raise ConversionError(f'rectify: OpenCV refuses this camera_info: '
                              f'{str(error).strip().splitlines()[-1]}') from None
    _check_coverage(maps[0], width, height)
    return maps


def _rectification_matrices(info: Any) -> tuple[np.ndarray, ...]:
    """Return ``K``, ``D``, ``R`` and the new camera matrix, each checked; name what is wrong.

    Raises:
        ConversionError: An unsupported model, the wrong number of coefficients for it, a
            value that is not finite, a degenerate ``K``, an ``R`` that is not a rotation.
    """
    model = info.distortion_model
    if model not in COEFFICIENTS:
        raise ConversionError(
            f'rectify: distortion model {model!r} is not supported; use one of '
            f'{", ".join((*PINHOLE_MODELS, FISHEYE_MODEL))}')
    d = np.asarray(info.d, dtype=np.float64)
    if d.size not in COEFFICIENTS[model]:
        raise ConversionError(
            f'rectify: camera_info D has {d.size} coefficient(s) but {model} takes '
            f'{" or ".join(map(str, COEFFICIENTS[model]))}')
    named = {'K': np.asarray(info.k, dtype=np.float64), 'D': d,
             'R': np.asarray(info.r, dtype=np.float64), 'P': np.asarray(info.p, dtype=np.float64)}
    for name, values in named.items():
        if not np.all(np.isfinite(values)):
            raise ConversionError(f'rectify: camera_info {name} holds a value that is not '
                                  f'finite: {values.tolist()}')
    k = named['K'].reshape(3, 3)
    if not (k[0, 0] > 0 and k[1, 1] > 0 and k[2, 2] == 1):
        raise ConversionError(f'rectify: camera_info K is not a camera matrix (fx, fy > 0 and '
                              f'K[2][2] = 1 needed): {named["K"].tolist()}')
    r = named['R'].reshape(3, 3)
    if not r.any():
        r = np.eye(3)
    elif not (np.allclose(r @ r.T, np.eye(3), atol=1e-3) and np.linalg.det(r) > 0):
        raise ConversionError(f'rectify: camera_info R is not a rotation: {named["R"].tolist()}')
    new_k = named['P'].reshape(3, 4)[:, :3] if has_projection(info) else k
    return k, d if model != FISHEYE_MODEL else d[:4], r, new_k


def _check_coverage(map_xy: np.ndarray, width: int, height: int) -> None:
    """Refuse maps that take most of the rectified image from outside the raw frame."""
    x, y = map_xy[..., 0], map_xy[..., 1]
    inside = float(((x >= 0) & (x < width) & (y >= 0) & (y < height)).mean())
    if inside < MIN_COVERAGE:
        raise ConversionError(
            f'rectify: camera_info D/R/P are implausible for this camera: only '
            f'{inside:.0%} of the rectified image comes from inside the frame (at least '
            f'{MIN_COVERAGE:.0%} expected); check the calibration')
