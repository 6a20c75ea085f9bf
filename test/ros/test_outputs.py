# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Tests of the node's output messages: content, reuse of their memory, is_dense."""

from mtl_perception.errors import ConversionError
from mtl_perception.formats.ros_clouds import pointcloud2_to_array
from mtl_perception.formats.ros_images import image_to_array
from mtl_perception.geometry import backproject, Intrinsics
from mtl_perception.inference import DevicePrediction
from mtl_perception.ros.conversions import array_to_image, cloud_message, image_message
from mtl_perception.ros.outputs import OutputBuilder
import numpy as np
import pytest
from rclpy.serialization import serialize_message
from std_msgs.msg import Header
import torch

HEADER = Header(frame_id='camera_optical_frame')
PALETTE = np.array([[255, 0, 0], [0, 128, 255], [1, 2, 3]], np.uint8)
INTRINSICS = Intrinsics(40.0, 41.0, 15.5, 9.5, 32, 20)


def _prediction(seed: int, nan: bool = True) -> DevicePrediction:
    generator = torch.Generator().manual_seed(seed)
    depth = torch.rand(20, 32, generator=generator) * 30 + 0.5
    if nan:
        depth[2, 4] = float('nan')
    labels = torch.randint(0, 3, (20, 32), generator=generator, dtype=torch.uint8)
    return DevicePrediction(labels=labels, depth=depth)


def test_images_hold_the_prediction_in_the_documented_encodings():
    builder, prediction = OutputBuilder(PALETTE, torch.device('cpu')), _prediction(0)
    labels = prediction.labels.numpy()
    segmentation = builder.segmentation(prediction, HEADER)
    colour = builder.colour(prediction, HEADER)
    depth = builder.depth(prediction, HEADER)
    for msg, expected, encoding in ((segmentation, labels, 'mono8'),
                                    (colour, PALETTE[labels], 'rgb8'),
                                    (depth, prediction.depth.numpy(), '32FC1')):
        assert msg.header == HEADER
        reference = array_to_image(expected, encoding, HEADER)
        assert serialize_message(msg) == serialize_message(reference)


def test_cloud_points_are_back_projected_depth_with_colour_and_label():
    builder, prediction = OutputBuilder(PALETTE, torch.device('cpu')), _prediction(1)
    msg = builder.points(prediction, INTRINSICS, 2, HEADER)
    cloud = pointcloud2_to_array(msg)
    assert (msg.height, msg.width, msg.point_step) == (10, 16, 20)
    expected = backproject(prediction.depth, INTRINSICS)[::2, ::2].numpy()
    np.testing.assert_allclose(np.stack([cloud['x'], cloud['y'], cloud['z']], -1), expected,
                               rtol=1e-6, equal_nan=True)
    labels = prediction.labels.numpy()[::2, ::2]
    np.testing.assert_array_equal(cloud['label'], labels)
    colours = PALETTE[labels].astype(np.uint32)
    np.testing.assert_array_equal(cloud['rgb'].view(np.uint32), (colours[..., 0] << 16)
                                  | (colours[..., 1] << 8) | colours[..., 2])
    assert not msg.is_dense


def test_is_dense_only_when_every_sampled_depth_is_finite():
    builder = OutputBuilder(PALETTE, torch.device('cpu'))
    assert builder.points(_prediction(2, nan=False), INTRINSICS, 1, HEADER).is_dense
    prediction = _prediction(2, nan=False)
    prediction.depth[3, 3] = float('inf')
    assert not builder.points(prediction, INTRINSICS, 1, HEADER).is_dense
    prediction.depth[3, 3] = float('nan')
    assert builder.points(prediction, INTRINSICS, 2, HEADER).is_dense  # (3, 3) not sampled


def test_out_of_range_depth_stays_in_the_image_and_becomes_nan_points_in_the_cloud():
    builder, prediction = OutputBuilder(PALETTE, torch.device('cpu')), _prediction(3, nan=False)
    prediction.depth[1, 1], prediction.depth[2, 2] = float('inf'), float('-inf')
    prediction.depth[0, 16] = float('inf')
    depth = image_to_array(builder.depth(prediction, HEADER))
    assert np.isposinf(depth[1, 1]) and np.isneginf(depth[2, 2])  # REP 117 markers kept
    cloud = pointcloud2_to_array(builder.points(prediction, INTRINSICS, 1, HEADER))
    xyz = np.stack([cloud['x'], cloud['y'], cloud['z']], -1)
    for row, column in ((1, 1), (2, 2), (0, 16)):
        assert np.isnan(xyz[row, column]).all()  # no point, not a point at infinity
    finite = np.isfinite(prediction.depth.numpy())
    assert np.isfinite(xyz[finite]).all() and finite.sum() == np.isfinite(xyz).all(-1).sum()


def test_messages_reuse_their_memory_until_the_frame_size_changes():
    builder = OutputBuilder(PALETTE, torch.device('cpu'))
    first_cloud = builder.points(_prediction(3), INTRINSICS, 1, HEADER)
    first_depth = builder.depth(_prediction(3), HEADER)
    second = _prediction(4)
    second_cloud = builder.points(second, INTRINSICS, 1, HEADER)
    second_depth = builder.depth(second, HEADER)
    assert second_cloud.data is first_cloud.data
    assert second_depth.data is first_depth.data
    np.testing.assert_array_equal(image_to_array(first_depth), second.depth.numpy())
    resized = DevicePrediction(labels=second.labels[:10], depth=second.depth[:10])
    assert builder.depth(resized, HEADER).data is not first_depth.data
    assert len(builder.depth(resized, HEADER).data) == 10 * 32 * 4


def test_message_wrappers_refuse_data_of_the_wrong_length():
    with pytest.raises(ConversionError, match=r'99 bytes of data cannot be a 4x3 rgb8 image'):
        image_message(bytearray(99), 'rgb8', 3, 4, HEADER)
    with pytest.raises(ConversionError, match=r'99 bytes of data cannot be 4x3 points of 20'):
        cloud_message(bytearray(99), 3, 4, HEADER, is_dense=True)


def test_normals_go_out_as_32fc3_and_as_half_offset_colours():
    builder = OutputBuilder(PALETTE, torch.device('cpu'))
    normals = torch.nn.functional.normalize(torch.randn(20, 32, 3), dim=2)
    normals[3, 5] = float('nan')
    prediction = DevicePrediction(labels=torch.zeros(20, 32, dtype=torch.uint8),
                                  depth=torch.ones(20, 32), normals=normals)
    message = builder.normals(prediction, HEADER)
    assert message.encoding == '32FC3' and message.header == HEADER
    np.testing.assert_array_equal(image_to_array(message), normals.numpy())
    colour = image_to_array(builder.normals_colour(prediction, HEADER))
    expected = np.round((normals.numpy() + 1) * 127.5)
    np.testing.assert_array_equal(colour[np.isfinite(expected)],
                                  expected[np.isfinite(expected)].astype(np.uint8))
    assert (colour[3, 5] == 0).all()
