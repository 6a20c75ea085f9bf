# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Tests of the numpy <-> sensor_msgs conversions."""

import importlib.util
import resource

from bad_frames import (
    encode, jpeg_declaring, png_declaring, truncated_jpeg, truncated_png, with_exif_orientation
)
import cv2
from mtl_perception.camera_model import camera_info_intrinsics
from mtl_perception.camera_model import frame_intrinsics
from mtl_perception.errors import ConversionError, FrameTooLargeError
from mtl_perception.formats.compressed import decode_compressed
from mtl_perception.formats.ros_clouds import pointcloud2_to_array
from mtl_perception.formats.ros_images import (
    compressed_to_rgb, image_to_array, image_to_rgb, MAX_FRAME_PIXELS
)
from mtl_perception.ros.conversions import (
    array_to_image, cloud_to_pointcloud2, intrinsics_to_camera_info, pack_rgb,
    semantic_cloud_array
)
from mtl_perception.synthetic import render_frame
import numpy as np
import pytest
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header

HEADER = Header(frame_id='camera_optical_frame')
HAS_CV_BRIDGE = importlib.util.find_spec('cv_bridge') is not None
HAS_SENSOR_MSGS_PY = importlib.util.find_spec('sensor_msgs_py') is not None


def _raw_image(encoding, pixels, *, padding=0, bigendian=False):
    msg = Image(height=pixels.shape[0], width=pixels.shape[1], encoding=encoding)
    rows = pixels.astype(pixels.dtype.newbyteorder('>' if bigendian else '<'))
    rows = rows.reshape(pixels.shape[0], -1).view(np.uint8)
    padded = np.zeros((rows.shape[0], rows.shape[1] + padding), dtype=np.uint8)
    padded[:, :rows.shape[1]] = rows
    msg.step = padded.shape[1]
    msg.is_bigendian = int(bigendian)
    msg.data = padded.tobytes()
    return msg


@pytest.mark.parametrize(('encoding', 'dtype', 'channels'), [
    ('rgb8', np.uint8, 3), ('bgr8', np.uint8, 3), ('rgba8', np.uint8, 4),
    ('bgra8', np.uint8, 4), ('mono8', np.uint8, 1), ('mono16', np.uint16, 1),
    ('16UC1', np.uint16, 1), ('32FC1', np.float32, 1)])
def test_every_encoding_round_trips_bit_exactly(encoding, dtype, channels):
    rng = np.random.default_rng(0)
    shape = (5, 7) if channels == 1 else (5, 7, channels)
    pixels = (rng.random(shape) * 1000).astype(dtype)
    msg = array_to_image(pixels, encoding, HEADER)
    assert (msg.height, msg.width, msg.encoding) == (5, 7, encoding)
    assert msg.step == 7 * channels * np.dtype(dtype).itemsize
    assert msg.header.frame_id == 'camera_optical_frame'
    np.testing.assert_array_equal(image_to_array(msg), pixels)


def test_row_padding_is_skipped_without_copying():
    pixels = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    msg = _raw_image('rgb8', pixels, padding=14)
    decoded = image_to_array(msg)
    np.testing.assert_array_equal(decoded, pixels)
    assert not decoded.flags.owndata


def test_padded_rows_of_multi_byte_pixels_decode_correctly():
    depth = np.linspace(0.5, 80.0, 3 * 5, dtype=np.float32).reshape(3, 5)
    decoded = image_to_array(_raw_image('32FC1', depth, padding=6))
    np.testing.assert_array_equal(decoded, depth)
    assert not decoded.flags.owndata


def test_big_endian_depth_is_converted_to_native_order():
    depth = np.array([[1.5, 2.25], [np.nan, 80.0]], dtype=np.float32)
    decoded = image_to_array(_raw_image('32FC1', depth, bigendian=True))
    assert decoded.dtype.isnative
    np.testing.assert_array_equal(decoded, depth)


@pytest.mark.parametrize('encoding', ['rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8'])
def test_colour_and_mono_images_become_rgb_for_the_network(encoding):
    rgb = np.array([[[10, 20, 30], [40, 50, 60]]], dtype=np.uint8)
    source = {
        'rgb8': rgb, 'bgr8': rgb[..., ::-1],
        'rgba8': np.concatenate([rgb, np.full((1, 2, 1), 255, np.uint8)], axis=2),
        'bgra8': np.concatenate([rgb[..., ::-1], np.full((1, 2, 1), 255, np.uint8)], axis=2),
        'mono8': rgb[..., 0],
    }[encoding]
    decoded = image_to_rgb(array_to_image(np.ascontiguousarray(source), encoding, HEADER))
    expected = np.repeat(rgb[..., :1], 3, axis=2) if encoding == 'mono8' else rgb
    np.testing.assert_array_equal(decoded, expected)


def test_depth_image_is_not_fed_to_the_network_as_colour():
    msg = array_to_image(np.ones((2, 2), np.float32), '32FC1', HEADER)
    with pytest.raises(ConversionError, match="'32FC1' is not a camera image; the network "
                                              'takes rgb8, bgr8'):
        image_to_rgb(msg)


def test_an_unknown_camera_encoding_lists_only_the_camera_encodings():
    msg = Image(height=1, width=1, encoding='yuv420', step=2, data=b'\x00\x00')
    with pytest.raises(ConversionError, match="'yuv420' is not a camera image encoding this "
                                              'package knows; the network takes rgb8, ') as error:
        image_to_rgb(msg)
    assert '32FC1' not in str(error.value) and '16UC1' not in str(error.value)


def test_unknown_encoding_is_named_with_the_supported_ones():
    msg = Image(height=1, width=1, encoding='yuv420', step=2, data=b'\x00\x00')
    with pytest.raises(ConversionError, match=r"unsupported image encoding 'yuv420'; "
                                              r"supported: \['16UC1'"):
        image_to_array(msg)


def test_truncated_data_names_height_and_step():
    msg = _raw_image('rgb8', np.zeros((4, 4, 3), np.uint8))
    msg.data = bytes(msg.data)[:40]
    with pytest.raises(ConversionError, match=r'data holds 40 bytes, fewer than height \* step '
                                              r'= 4 \* 12 = 48'):
        image_to_array(msg)


def test_step_shorter_than_a_row_is_named():
    msg = _raw_image('rgb8', np.zeros((2, 4, 3), np.uint8))
    msg.step = 10
    with pytest.raises(ConversionError, match='step 10 is shorter than a row of 4 rgb8 pixels '
                                              r'\(12 bytes\)'):
        image_to_array(msg)


def test_zero_size_image_is_rejected():
    with pytest.raises(ConversionError, match='zero size: height=0, width=4'):
        image_to_array(Image(height=0, width=4, encoding='rgb8', step=12))


def test_array_that_does_not_fit_the_encoding_is_rejected():
    with pytest.raises(ConversionError, match="does not fit encoding 'rgb8'"):
        array_to_image(np.zeros((2, 2), np.uint8), 'rgb8', HEADER)


def test_camera_info_gives_intrinsics_for_its_size():
    info = CameraInfo(width=640, height=480,
                      k=[500.0, 0.0, 319.5, 0.0, 505.0, 239.5, 0.0, 0.0, 1.0])
    intrinsics = camera_info_intrinsics(info)
    assert (intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy) == (
        500.0, 505.0, 319.5, 239.5)
    assert (intrinsics.width, intrinsics.height) == (640, 480)


def test_uncalibrated_camera_info_is_rejected():
    with pytest.raises(ConversionError, match='camera_info K is unusable: degenerate'):
        camera_info_intrinsics(CameraInfo(width=640, height=480))
    with pytest.raises(ConversionError, match='camera_info has zero image size'):
        camera_info_intrinsics(CameraInfo(k=[1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0]))


def _kitti_like_info(**roi) -> CameraInfo:
    info = CameraInfo(width=1280, height=384,
                      k=[1000.0, 0.0, 639.5, 0.0, 1000.0, 191.5, 0.0, 0.0, 1.0],
                      p=[1000.0, 0.0, 639.5, 0.0, 0.0, 1000.0, 191.5, 0.0, 0.0, 0.0, 1.0, 0.0])
    for name, value in roi.items():
        setattr(info.roi, name, value)
    return info


def test_a_region_of_interest_is_a_crop_not_a_resize():
    info = _kitti_like_info(x_offset=0, y_offset=0, width=640, height=192)
    intrinsics = frame_intrinsics(info, (), 640, 192)
    assert (intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy) == (
        1000.0, 1000.0, 639.5, 191.5)
    shifted = camera_info_intrinsics(_kitti_like_info(x_offset=320, y_offset=100, width=640,
                                                      height=192))
    assert (shifted.fx, shifted.cx, shifted.cy, shifted.width) == (1000.0, 319.5, 91.5, 640)


def test_binning_divides_focal_lengths_and_principal_point():
    info = _kitti_like_info(x_offset=320, y_offset=96, width=640, height=192)
    info.binning_x = info.binning_y = 2
    intrinsics = camera_info_intrinsics(info)
    assert (intrinsics.width, intrinsics.height) == (320, 96)
    assert (intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy) == (
        500.0, 500.0, 159.75, 47.75)


def test_the_depth_camera_info_describes_the_cropped_image_itself():
    info = _kitti_like_info(x_offset=320, y_offset=96, width=640, height=192)
    intrinsics = frame_intrinsics(info, (), 320, 96)  # the crop, then resized by half
    out = intrinsics_to_camera_info(intrinsics, HEADER, info)
    assert (out.width, out.height, out.roi.width, out.binning_x) == (320, 96, 0, 0)
    assert list(out.p) == pytest.approx([500.0, 0.0, 159.5, 0.0, 0.0, 500.0, 47.5, 0.0,
                                         0.0, 0.0, 1.0, 0.0])
    assert list(out.k)[:3] == pytest.approx([500.0, 0.0, 159.5])


def test_a_region_of_interest_outside_the_sensor_is_refused():
    with pytest.raises(ConversionError, match=r'roi 640x192 at \(700, 0\) lies outside its '
                                              r'1280x384 image'):
        camera_info_intrinsics(_kitti_like_info(x_offset=700, width=640, height=192))


def test_rgb_packing_matches_the_rviz_layout():
    packed = pack_rgb(np.array([[255, 128, 1]], dtype=np.uint8))
    assert packed.view(np.uint32)[0] == 0xFF8001


def _cloud(height=3, width=4):
    rng = np.random.default_rng(1)
    points = rng.normal(size=(height, width, 3)).astype(np.float32)
    colours = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    labels = rng.integers(0, 8, size=(height, width)).astype(np.uint8)
    return points, colours, labels


def test_organised_cloud_round_trips_with_its_fields():
    points, colours, labels = _cloud()
    msg = cloud_to_pointcloud2(semantic_cloud_array(points, colours, labels), HEADER)
    assert (msg.height, msg.width, msg.point_step, msg.row_step) == (3, 4, 20, 80)
    assert [f.name for f in msg.fields] == ['x', 'y', 'z', 'rgb', 'label']
    assert [f.offset for f in msg.fields] == [0, 4, 8, 12, 16]
    assert msg.is_dense
    decoded = pointcloud2_to_array(msg)
    np.testing.assert_array_equal(decoded['x'], points[..., 0])
    np.testing.assert_array_equal(decoded['z'], points[..., 2])
    np.testing.assert_array_equal(decoded['label'], labels)
    np.testing.assert_array_equal(decoded['rgb'].view(np.uint32) >> 16, colours[..., 0])


def test_cloud_with_nan_points_is_not_dense_and_unorganised_clouds_have_height_one():
    points, colours, labels = _cloud()
    points[1, 2] = np.nan
    cloud = semantic_cloud_array(points, colours, labels)
    assert not cloud_to_pointcloud2(cloud, HEADER).is_dense
    flat = cloud_to_pointcloud2(cloud.reshape(-1), HEADER)
    assert (flat.height, flat.width) == (1, 12)


def test_truncated_cloud_data_is_reported():
    points, colours, labels = _cloud()
    msg = cloud_to_pointcloud2(semantic_cloud_array(points, colours, labels), HEADER)
    msg.data = bytes(msg.data)[:100]
    with pytest.raises(ConversionError, match='PointCloud2 data holds 100 bytes, fewer than '
                                              r'height \* row_step = 240'):
        pointcloud2_to_array(msg)


@pytest.mark.skipif(not HAS_CV_BRIDGE, reason='cv_bridge is a ROS distro package; not '
                                              'installable from PyPI')
def test_cv_bridge_decodes_our_images_identically():
    from cv_bridge import CvBridge
    bridge = CvBridge()
    for encoding, pixels in (('rgb8', np.arange(60, dtype=np.uint8).reshape(4, 5, 3)),
                             ('32FC1', np.linspace(0, 9, 20, dtype=np.float32).reshape(4, 5))):
        msg = array_to_image(pixels, encoding, HEADER)
        np.testing.assert_array_equal(bridge.imgmsg_to_cv2(msg), pixels)
        np.testing.assert_array_equal(image_to_array(bridge.cv2_to_imgmsg(pixels, encoding)),
                                      pixels)


@pytest.mark.skipif(not HAS_SENSOR_MSGS_PY, reason='sensor_msgs_py is a ROS distro package; '
                                                   'not installable from PyPI')
def test_sensor_msgs_py_reads_our_clouds_identically():
    from sensor_msgs_py import point_cloud2
    points, colours, labels = _cloud()
    points[0, 0] = np.nan
    msg = cloud_to_pointcloud2(semantic_cloud_array(points, colours, labels), HEADER)
    theirs = point_cloud2.read_points(msg, skip_nans=False)
    ours = pointcloud2_to_array(msg).reshape(-1)
    for name in ('x', 'y', 'z', 'label'):
        np.testing.assert_array_equal(np.asarray(theirs[name]).reshape(-1), ours[name])


def _mosaic(rgb: np.ndarray, pattern: str) -> np.ndarray:
    """Sample an RGB image the way a Bayer sensor with ``pattern`` (e.g. ``rggb``) does."""
    mosaic = np.zeros(rgb.shape[:2], np.uint8)
    for row in range(2):
        for col in range(2):
            channel = 'rgb'.index(pattern[2 * row + col])
            mosaic[row::2, col::2] = rgb[row::2, col::2, channel]
    return mosaic


@pytest.mark.parametrize('pattern', ['rggb', 'bggr', 'gbrg', 'grbg'])
def test_bayer_mosaics_are_demosaiced_to_their_colours(pattern):
    rgb = np.zeros((8, 12, 3), np.uint8)
    rgb[:, :6] = (200, 100, 30)
    rgb[:, 6:] = (20, 90, 220)
    msg = array_to_image(_mosaic(rgb, pattern), 'mono8', HEADER)
    msg.encoding = f'bayer_{pattern}8'
    decoded = image_to_rgb(msg)
    assert decoded.shape == (8, 12, 3)
    np.testing.assert_allclose(decoded[2:6, 1:4], rgb[2:6, 1:4], atol=2)
    np.testing.assert_allclose(decoded[2:6, 8:11], rgb[2:6, 8:11], atol=2)


@pytest.mark.parametrize(('encoding', 'order'), [('yuv422', 'uyvy'), ('uyvy', 'uyvy'),
                                                 ('yuv422_yuy2', 'yuyv'), ('yuyv', 'yuyv')])
def test_yuv_4_2_2_is_read_in_its_byte_order(encoding, order):
    luma, blue_difference, red_difference = 120, 200, 128  # blue-ish grey
    pairs = np.zeros((4, 4, 2), np.uint8)
    luma_channel = 1 if order == 'uyvy' else 0
    pairs[..., luma_channel] = luma
    pairs[:, 0::2, 1 - luma_channel] = blue_difference
    pairs[:, 1::2, 1 - luma_channel] = red_difference
    msg = Image(header=HEADER, height=4, width=4, encoding=encoding, step=8,
                data=pairs.tobytes())
    red, green, blue = image_to_rgb(msg)[1, 1].astype(int)
    assert blue > red + 60 and blue > green + 60


def test_16_bit_images_keep_their_high_byte():
    rgb16 = np.full((2, 3, 3), 0, np.uint16)
    rgb16[..., 0], rgb16[..., 2] = 0xABCD, 0x1234
    decoded = image_to_rgb(array_to_image(rgb16, 'rgb16', HEADER))
    assert decoded.dtype == np.uint8 and tuple(decoded[0, 0]) == (0xAB, 0, 0x12)
    assert tuple(image_to_rgb(array_to_image(rgb16, 'bgr16', HEADER))[0, 0]) == (0x12, 0, 0xAB)
    mono = image_to_rgb(array_to_image(np.full((2, 2), 0x8000, np.uint16), 'mono16', HEADER))
    assert (mono == 0x80).all() and mono.shape == (2, 2, 3)


def test_compressed_png_decodes_exactly_and_jpeg_closely():
    rng = np.random.default_rng(0)
    rgb = np.repeat(np.repeat(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), 4, 0), 4, 1)
    # JPEG's chroma subsampling costs ~15 on random colour blocks; swapped channels ~80
    for extension, mean_error in (('.png', 0), ('.jpg', 20)):
        msg = CompressedImage(header=HEADER, format=extension[1:], data=encode(rgb, extension))
        decoded = compressed_to_rgb(msg, MAX_FRAME_PIXELS)
        assert decoded.shape == rgb.shape
        assert np.abs(decoded.astype(int) - rgb).mean() <= mean_error


def test_strict_jpeg_decoding_gives_opencvs_pixels():
    rgb = render_frame(5, width=96, height=32).rgb
    data = encode(rgb, '.jpg')
    opencv = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
    np.testing.assert_array_equal(decode_compressed(data, MAX_FRAME_PIXELS), opencv)


@pytest.mark.parametrize(('format_', 'data', 'message'), [
    ('jpeg', b'not a jpeg at all', r'a 17-byte compressed frame is neither JPEG nor PNG'),
    ('jpeg', b'', r'a 0-byte compressed frame is neither'),
    ('jpeg', b'\xff\xd8\xff\x00garbage', r'a 11-byte JPEG frame has no readable header'),
    ('16UC1; compressedDepth', b'\x00' * 16, 'is a depth image, not a camera image'),
])
def test_undecodable_compressed_frames_are_named(format_, data, message):
    with pytest.raises(ConversionError, match=message):
        compressed_to_rgb(CompressedImage(header=HEADER, format=format_, data=data),
                          MAX_FRAME_PIXELS)


@pytest.mark.parametrize('damaged', [
    pytest.param(lambda: png_declaring(20000, 20000), id='png-20000x20000'),
    pytest.param(lambda: jpeg_declaring(16000, 16000), id='jpeg-16000x16000'),
    pytest.param(lambda: jpeg_declaring(65000, 65000), id='jpeg-65000x65000'),
])
def test_a_frame_declaring_too_many_pixels_is_refused_before_decoding(damaged):
    data = damaged()
    assert len(data) < 1000  # a few hundred bytes that would cost gigabytes to decode
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(FrameTooLargeError, match=r'declares \d+x\d+.*refused before decoding'):
        compressed_to_rgb(CompressedImage(header=HEADER, format='png', data=data),
                          MAX_FRAME_PIXELS)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 50_000  # decoding even the smallest of them takes 1.2 GB


def test_damaged_jpeg_and_png_are_refused_not_grey_filled():
    rgb = render_frame(5, width=320, height=96).rgb
    with pytest.raises(ConversionError, match='damaged JPEG frame.*premature end of data'):
        decode_compressed(truncated_jpeg(encode(rgb, '.jpg')), MAX_FRAME_PIXELS)
    with pytest.raises(ConversionError, match=r"damaged PNG frame.*b'IDAT'.*truncated"):
        decode_compressed(truncated_png(encode(rgb, '.png')), MAX_FRAME_PIXELS)
    flipped = bytearray(encode(rgb, '.png'))
    flipped[200] ^= 0x10
    with pytest.raises(ConversionError, match='fails its CRC'):
        decode_compressed(bytes(flipped), MAX_FRAME_PIXELS)


@pytest.mark.parametrize('orientation', [3, 6, 8])
def test_exif_orientation_is_ignored(orientation):
    rgb = render_frame(5, width=320, height=96).rgb
    plain = encode(rgb, '.jpg')
    rotated = with_exif_orientation(plain, orientation)
    opencv = cv2.imdecode(np.frombuffer(rotated, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
    assert not np.array_equal(opencv, decode_compressed(plain, MAX_FRAME_PIXELS))  # turned
    np.testing.assert_array_equal(decode_compressed(rotated, MAX_FRAME_PIXELS),
                                  decode_compressed(plain, MAX_FRAME_PIXELS))


@pytest.mark.parametrize(('encoding', 'width', 'height', 'message'), [
    ('yuv422', 7, 4, r'yuv422 \(YUV 4:2:2\) image must have an even width, this one is 7'),
    ('yuv422_yuy2', 641, 2, 'must have an even width, this one is 641'),
    ('bayer_rggb8', 8, 5, r'bayer_rggb8 image is made of 2x2 tiles.*this one is 8x5'),
])
def test_sizes_an_encoding_cannot_have_are_named(encoding, width, height, message):
    channels = 2 if 'yuv' in encoding else 1
    msg = Image(header=HEADER, height=height, width=width, encoding=encoding,
                step=width * channels, data=bytes(height * width * channels))
    with pytest.raises(ConversionError, match=message):
        image_to_rgb(msg)
