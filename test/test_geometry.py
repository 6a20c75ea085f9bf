# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Tests of intrinsics and back-projection, cross-checked against Open3D."""

from mtl_perception.errors import GeometryError
from mtl_perception.geometry import (backproject, BackProjector, Intrinsics, pixel_rays,
                                     SemanticCloudAssembler)
import numpy as np
import open3d as o3d
import pytest
import torch

KITTI_LIKE = Intrinsics(fx=721.5377, fy=721.5377, cx=609.5593, cy=172.854, width=1242,
                        height=375)


def _depth_frame(height=60, width=80, seed=0):
    rng = np.random.default_rng(seed)
    depth = rng.uniform(0.5, 40.0, size=(height, width)).astype(np.float32)
    depth[rng.random((height, width)) < 0.1] = np.nan
    return depth


def test_single_pixels_back_project_to_hand_computed_points():
    intrinsics = Intrinsics(fx=100.0, fy=50.0, cx=2.0, cy=1.0, width=5, height=3)
    depth = torch.full((3, 5), 2.0)
    points = backproject(depth, intrinsics)
    assert points.shape == (3, 5, 3)
    torch.testing.assert_close(points[1, 2], torch.tensor([0.0, 0.0, 2.0]))
    torch.testing.assert_close(points[0, 4], torch.tensor([2 * 2.0 / 100.0, -2.0 / 50.0, 2.0]))


def test_nan_depth_gives_nan_points_and_valid_depth_keeps_z():
    depth = torch.from_numpy(_depth_frame())
    points = backproject(depth, Intrinsics(80.0, 80.0, 39.5, 29.5, 80, 60))
    invalid = torch.isnan(depth)
    assert torch.isnan(points[invalid]).all()
    torch.testing.assert_close(points[~invalid][:, 2], depth[~invalid])


def test_points_agree_with_open3d_create_from_rgbd_image_to_a_tenth_of_a_millimetre():
    depth = _depth_frame(120, 160)
    intrinsics = Intrinsics(fx=130.0, fy=128.0, cx=81.3, cy=58.7, width=160, height=120)
    ours = backproject(torch.from_numpy(depth), intrinsics).numpy()
    valid = np.isfinite(depth)
    ours = ours[valid]

    colour = np.zeros((120, 160, 3), dtype=np.uint8)
    rgbd = o3d.geometry.RGBDImage.create_from_color_and_depth(
        o3d.geometry.Image(colour), o3d.geometry.Image(np.nan_to_num(depth, nan=0.0)),
        depth_scale=1.0, depth_trunc=1000.0, convert_rgb_to_intensity=False)
    camera = o3d.camera.PinholeCameraIntrinsic(160, 120, intrinsics.fx, intrinsics.fy,
                                               intrinsics.cx, intrinsics.cy)
    theirs = np.asarray(o3d.geometry.PointCloud.create_from_rgbd_image(rgbd, camera).points)

    assert theirs.shape == ours.shape
    np.testing.assert_allclose(ours, theirs, atol=1e-4, rtol=0)


def test_scaled_intrinsics_keep_pixel_centres_consistent():
    half = KITTI_LIKE.scaled(621, 188)
    assert half.fx == pytest.approx(KITTI_LIKE.fx / 2)
    assert half.cx == pytest.approx((KITTI_LIKE.cx + 0.5) / 2 - 0.5)
    assert half.fy == pytest.approx(KITTI_LIKE.fy * 188 / 375)
    back = half.scaled(1242, 375)
    assert back.cx == pytest.approx(KITTI_LIKE.cx)
    assert back.cy == pytest.approx(KITTI_LIKE.cy)


def test_intrinsics_from_a_camera_info_k_matrix():
    k = [721.5, 0.0, 609.6, 0.0, 720.0, 172.9, 0.0, 0.0, 1.0]
    intrinsics = Intrinsics.from_matrix(k, 1242, 375)
    assert (intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy) == (
        721.5, 720.0, 609.6, 172.9)
    np.testing.assert_array_equal(intrinsics.matrix.ravel(), k)


@pytest.mark.parametrize('k', [[0.0] * 9, [np.nan, 0, 1, 0, 1, 1, 0, 0, 1]])
def test_degenerate_camera_matrices_are_rejected(k):
    with pytest.raises(GeometryError, match='degenerate intrinsics'):
        Intrinsics.from_matrix(k, 640, 480)


def test_depth_of_another_size_than_the_intrinsics_is_rejected():
    with pytest.raises(GeometryError, match=r'depth map of shape \(10, 10\) does not match '
                                            r'intrinsics for 1242x375 images'):
        backproject(torch.ones(10, 10), KITTI_LIKE)


def test_back_projector_reuses_rays_and_matches_the_function():
    projector = BackProjector()
    depth = torch.from_numpy(_depth_frame())
    intrinsics = Intrinsics(80.0, 80.0, 39.5, 29.5, 80, 60)
    first = projector(depth, intrinsics)
    rays = projector._rays
    second = projector(depth * 2, intrinsics)
    assert projector._rays is rays
    torch.testing.assert_close(second, first * 2, equal_nan=True)
    torch.testing.assert_close(first, backproject(depth, intrinsics), equal_nan=True)


def test_pixel_rays_have_unit_z():
    rays = pixel_rays(KITTI_LIKE)
    assert rays.shape == (375, 1242, 3)
    assert (rays[..., 2] == 1).all()


def test_semantic_cloud_records_hold_points_packed_colours_and_labels_bit_exactly():
    intrinsics = Intrinsics(50.0, 52.0, 15.5, 9.5, 32, 20)
    depth = torch.rand(20, 32) * 10 + 1
    depth[3, 4] = float('nan')
    labels = torch.randint(0, 3, (20, 32), dtype=torch.uint8)
    palette = np.array([[255, 0, 0], [0, 128, 255], [1, 2, 3]], np.uint8)
    records = SemanticCloudAssembler(palette)(depth, labels, intrinsics, stride=3).numpy()
    assert records.shape == (7, 11, 5)
    expected = backproject(depth, intrinsics)[::3, ::3].numpy()
    np.testing.assert_allclose(records[..., :3], expected, rtol=1e-6, equal_nan=True)
    packed = records[..., 3].view(np.uint32)
    sampled = labels[::3, ::3].numpy()
    colours = palette[sampled].astype(np.uint32)
    np.testing.assert_array_equal(packed, (colours[..., 0] << 16) | (colours[..., 1] << 8)
                                  | colours[..., 2])
    np.testing.assert_array_equal(records[..., 4].view(np.uint32), sampled)


def test_semantic_cloud_records_can_be_written_into_given_memory():
    intrinsics = Intrinsics(50.0, 52.0, 15.5, 9.5, 32, 20)
    depth = torch.rand(20, 32) * 10 + 1
    labels = torch.randint(0, 3, (20, 32), dtype=torch.uint8)
    assembler = SemanticCloudAssembler(np.array([[255, 0, 0], [0, 128, 255], [1, 2, 3]]))
    memory = bytearray(20 * 32 * 20)
    out = torch.frombuffer(memory, dtype=torch.float32).view(20, 32, 5)
    assert assembler(depth, labels, intrinsics, out=out) is out
    expected = assembler(depth, labels, intrinsics).clone()
    assert bytes(memory) == expected.numpy().tobytes()
    with pytest.raises(GeometryError, match=r'out must be float32 of shape \(10, 16, 5\), got'):
        assembler(depth, labels, intrinsics, stride=2, out=out)


def test_both_colour_lookups_give_the_same_records():
    intrinsics = Intrinsics(50.0, 52.0, 15.5, 9.5, 32, 20)
    depth = torch.rand(20, 32) * 10 + 1
    labels = torch.randint(0, 3, (20, 32), dtype=torch.uint8)
    assembler = SemanticCloudAssembler(np.array([[255, 0, 0], [0, 128, 255], [1, 2, 3]]))
    with_lut = assembler(depth, labels, intrinsics, stride=2).clone()  # cv2.LUT (uint8, CPU)
    with_index_select = assembler(depth, labels.long(), intrinsics, stride=2)
    assert torch.equal(with_lut.view(torch.int32), with_index_select.view(torch.int32))


def test_semantic_cloud_assembly_refuses_more_classes_than_uint8_ids():
    with pytest.raises(GeometryError, match='257 classes do not fit uint8 class ids'):
        SemanticCloudAssembler(np.zeros((257, 3), np.uint8))


def test_semantic_cloud_assembly_rejects_maps_of_another_size():
    assembler = SemanticCloudAssembler(np.zeros((2, 3), np.uint8))
    with pytest.raises(GeometryError, match=r'must both match the 32x20 intrinsics'):
        assembler(torch.ones(20, 31), torch.zeros(20, 31, dtype=torch.uint8),
                  Intrinsics(50.0, 50.0, 15.5, 9.5, 32, 20))
