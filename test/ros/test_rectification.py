# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Camera geometry of real cameras: P before K, and raw frames rectified with their D."""

from bad_frames import distort
import cv2
from mtl_perception.camera_model import camera_info_intrinsics
from mtl_perception.errors import ConversionError
from mtl_perception.formats.rectification import Rectifier
from mtl_perception.ros.serving import looks_raw
from mtl_perception.synthetic import render_frame
import numpy as np
import pytest
from sensor_msgs.msg import CameraInfo

K = [300.0, 0.0, 159.5, 0.0, 300.0, 47.5, 0.0, 0.0, 1.0]
P = [280.0, 0.0, 162.0, 0.0, 0.0, 285.0, 46.0, 0.0, 0.0, 0.0, 1.0, 0.0]


def _info(d=(-0.3, 0.1, 0.001, -0.002, 0.0), model='plumb_bob') -> CameraInfo:
    return CameraInfo(width=320, height=96, k=K, p=P, d=list(d), distortion_model=model,
                      r=[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0])


def test_intrinsics_come_from_p_when_it_is_set_and_from_k_otherwise():
    with_p = camera_info_intrinsics(_info())
    assert (with_p.fx, with_p.fy, with_p.cx, with_p.cy) == (280.0, 285.0, 162.0, 46.0)
    uncalibrated_p = _info()
    uncalibrated_p.p = [0.0] * 12
    with_k = camera_info_intrinsics(uncalibrated_p)
    assert (with_k.fx, with_k.cx) == (300.0, 159.5)


@pytest.mark.parametrize('model', ['plumb_bob', 'rational_polynomial'])
def test_rectification_undoes_the_lens_distortion_within_interpolation_error(model):
    d = (-0.3, 0.1, 0.001, -0.002, 0.0) + ((0.01, 0.0, 0.0) if model != 'plumb_bob' else ())
    info = _info(d, model)
    # smooth enough that resampling twice (distort, rectify) costs little
    rectified = cv2.GaussianBlur(render_frame(11, width=320, height=96).rgb, (0, 0), 1.5)
    raw = distort(rectified, info)
    moved = np.abs(raw.astype(int) - rectified).mean()
    restored = Rectifier().rectify(raw, info)
    inner = (slice(8, -8), slice(16, -16))  # the border is outside the raw field of view
    error = np.abs(restored[inner].astype(int) - rectified[inner]).mean()
    assert error < moved / 10 and error < 0.5, (error, moved)


def test_an_unsupported_distortion_model_or_size_is_named():
    raw = np.zeros((96, 320, 3), np.uint8)
    with pytest.raises(ConversionError, match="distortion model 'tilted' is not supported"):
        Rectifier().rectify(raw, _info(model='tilted'))
    with pytest.raises(ConversionError, match='camera_info is for 320x96 images but the frame '
                                              'is 160x48'):
        Rectifier().rectify(raw[::2, ::2], _info())


@pytest.mark.parametrize(('topic', 'raw'), [
    ('/camera/image_raw', True), ('/camera/image_raw/compressed', True), ('/cam/raw', True),
    ('/camera/image_rect', False), ('/camera/image', False), ('/raw_images/image', False)])
def test_raw_topics_are_told_from_rectified_ones_by_name(topic, raw):
    assert looks_raw(topic) is raw


NAN, INF = float('nan'), float('inf')
IDENTITY = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]


def _with(**fields) -> CameraInfo:
    info = _info()
    for name, value in fields.items():
        setattr(info, name, value)
    return info


@pytest.mark.parametrize(('info', 'message'), [
    (_with(d=[NAN, 0.0, 0.0, 0.0, 0.0]), r'camera_info D holds a value that is not finite'),
    (_with(d=[INF, 0.0, 0.0, 0.0, 0.0]), r'camera_info D holds a value that is not finite'),
    (_with(r=[NAN] * 9), r'camera_info R holds a value that is not finite'),
    (_with(p=[NAN] * 12), r'camera_info P holds a value that is not finite'),
    (_with(d=[1e30, 0.0, 0.0, 0.0, 0.0]), r'implausible for this camera: only 0% of the '
                                          r'rectified image comes from inside the frame'),
    (_with(r=[2.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]), r'camera_info R is not a rotation'),
    (_with(k=[0.0] * 9), r'camera_info K is not a camera matrix'),
    (_with(d=[-0.3, 0.1, 0.0]), r'D has 3 coefficient\(s\) but plumb_bob takes 4 or 5'),
    (_with(d=[0.1, 0.0], distortion_model='equidistant'), r'but equidistant takes 4'),
    (_with(d=[0.1] * 5, distortion_model='rational_polynomial'),
     r'but rational_polynomial takes 8'),
])
def test_a_calibration_that_cannot_rectify_is_refused_naming_the_field(info, message):
    raw = np.zeros((96, 320, 3), np.uint8)
    rectifier = Rectifier()
    with pytest.raises(ConversionError, match=message) as first:
        rectifier.rectify(raw, info)
    assert '\n' not in str(first.value) and 'OpenCV' not in str(first.value)
    with pytest.raises(ConversionError) as again:  # remembered: no maps built each frame
        rectifier.rectify(raw, info)
    assert again.value is first.value


def test_a_rotation_and_an_all_zero_r_are_accepted():
    raw = np.zeros((96, 320, 3), np.uint8)
    turned = cv2.Rodrigues(np.array([0.0, 0.02, 0.0]))[0].reshape(-1).tolist()
    for r in (turned, [0.0] * 9, IDENTITY):
        assert Rectifier().rectify(raw, _with(r=r)).shape == raw.shape
