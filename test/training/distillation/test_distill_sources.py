# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Frames come out of folders, videos and bags with stable keys, intrinsics and LiDAR anchors."""

from __future__ import annotations

from distill_fixtures import (
    frames, image_folder, INTRINSICS_P, lidar_to_camera, rig_bag, SIZE, TYPESTORE, video
)
from mtl_perception.camera_model import frame_intrinsics
from mtl_perception.formats.kitti_raw import read_calibration
from mtl_perception.synthetic.kitti_layout import write_kitti_drive
from mtl_perception.tools.kitti_to_bag import main as kitti_to_bag
from mtl_perception.training.distillation.bags import BagSource, info_topic
from mtl_perception.training.distillation.sources import Every, open_source
from mtl_perception.training.errors import DistillError
import numpy as np
import pytest
from rosbags.highlevel import AnyReader

POINTS = np.array([[8.0, 0.5, -1.0], [12.0, -2.0, 0.0], [20.0, 1.0, -1.5], [-5.0, 0.0, 0.0]])


def _all(source):
    return list(source.frames(lambda key: True))


def test_every_parses_counts_and_seconds_and_refuses_the_rest():
    assert Every.parse('3') == Every(3) and Every.parse('2.5s') == Every(seconds=2.5)
    for bad in ('0', '-1', 'x', '0s', '2 frames'):
        with pytest.raises(DistillError, match='--every'):
            Every.parse(bad)
    keep = Every(seconds=1.0).selector()
    stamps = [0, 400, 999, 1000, 1500, 2600, 2700, 3100]
    kept = [s for i, s in enumerate(stamps) if keep(i, s * 1_000_000)]
    assert kept == [0, 1000, 2600, 3100]


def test_an_image_folder_gives_its_frames_in_name_order_with_stable_keys(tmp_path):
    folder = image_folder(tmp_path / 'images', 5)
    source = open_source(folder, Every(2))
    got = _all(source)
    assert [f.index for f in got] == [0, 2, 4] and source.estimated_frames() == 3
    assert got[0].key.startswith('images-') and got[2].key.endswith('-000004')
    np.testing.assert_array_equal(got[1].rgb, frames(5)[2])
    skipped = list(source.frames(lambda key: not key.endswith('000002')))
    assert [f.index for f in skipped] == [0, 4]


def test_a_video_gives_every_nth_frame_or_one_per_interval(tmp_path):
    path = video(tmp_path / 'drive.avi', 9, fps=10.0)
    by_count = _all(open_source(path, Every(3)))
    assert [f.index for f in by_count] == [0, 3, 6]
    assert by_count[0].rgb.shape == (*SIZE, 3)
    assert np.abs(by_count[1].rgb.astype(int) - frames(9)[3]).mean() < 8  # MJPEG
    by_time = _all(open_source(path, Every(seconds=0.4)))
    assert [f.index for f in by_time] == [0, 4, 8]
    assert by_time[1].stamp_ns == 400_000_000


def test_a_bag_frame_carries_the_projection_p_and_lidar_points_moved_by_tf_static(tmp_path):
    bag = rig_bag(tmp_path / 'rig', 3, POINTS)
    source = BagSource(bag, Every(1), [], '/velodyne_points')
    got = _all(source)
    assert len(got) == 3 and source.image_topics == ['/cam/image_raw']
    frame = got[1]
    assert frame.stream == '/cam/image_raw' and frame.stamp_ns == 200_000_000
    assert frame.intrinsics == INTRINSICS_P  # P, not K
    np.testing.assert_array_equal(frame.rgb, frames(3)[1])
    np.testing.assert_allclose(frame.points, lidar_to_camera(POINTS), atol=1e-9)


def test_a_resized_stream_gets_the_intrinsics_the_node_computes_for_it(tmp_path):
    bag = rig_bag(tmp_path / 'resized', 1, POINTS, calibrated_scale=2)
    frame, = _all(BagSource(bag, Every(1), [], None))
    info = next(message for topic, message in _messages(bag) if topic == '/cam/camera_info')
    node = frame_intrinsics(info, (), SIZE[1], SIZE[0])
    assert frame.intrinsics == (node.fx, node.fy, node.cx, node.cy)
    assert frame.intrinsics[:2] == INTRINSICS_P[:2]  # the sensor's focal length, halved
    assert abs(frame.intrinsics[2] - INTRINSICS_P[2]) < 0.5


def _messages(bag):
    with AnyReader([bag], default_typestore=TYPESTORE) as reader:
        for connection, _, raw in reader.messages():
            yield connection.topic, reader.deserialize(raw, connection.msgtype)


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_compressed_frames_of_either_storage_decode(tmp_path, storage):
    bag = rig_bag(tmp_path / storage, 2, POINTS, storage=storage, compressed=True)
    got = _all(BagSource(bag, Every(1), ['/cam/image_raw/compressed'], None))
    assert len(got) == 2 and got[0].points is None
    np.testing.assert_array_equal(got[0].rgb, frames(2)[0])
    assert info_topic('/cam/image_raw/compressed') == '/cam/camera_info'


def test_bad_sources_are_one_error_naming_them(tmp_path):
    bag = rig_bag(tmp_path / 'rig', 1, POINTS)
    with pytest.raises(DistillError, match=r"no image topic '/front/image' in this bag \(its "
                                           r"image topics: \['/cam/image_raw'\]\)"):
        BagSource(bag, Every(1), ['/front/image'], None)
    with pytest.raises(DistillError, match="no PointCloud2 topic '/cam/camera_info'"):
        BagSource(bag, Every(1), [], '/cam/camera_info')
    (tmp_path / 'broken.mp4').write_bytes(b'not a video at all')
    with pytest.raises(DistillError, match=r'broken.mp4: not a readable video'):
        open_source(tmp_path / 'broken.mp4', Every(1))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(DistillError, match=r'empty: no images'):
        open_source(tmp_path / 'empty', Every(1))
    with pytest.raises(DistillError, match='--every in seconds needs a video or a bag'):
        open_source(image_folder(tmp_path / 'images', 1), Every(seconds=1.0))
    with pytest.raises(DistillError, match='no such file or folder'):
        open_source(tmp_path / 'absent', Every(1))


def test_several_camera_topics_of_a_kitti_bag_are_distilled_each_with_its_camera_info(tmp_path):
    drive = write_kitti_drive(tmp_path / 'kitti', seed=3, frames=2, width=SIZE[1],
                              height=SIZE[0], with_depth=False, progress=False)
    assert kitti_to_bag([str(drive), str(tmp_path / 'bag'), '--camera', 'both',
                         '--no-progress']) == 0
    topics = ['/kitti/camera_color_left/image_raw', '/kitti/camera_color_right/image_raw']
    with pytest.raises(DistillError, match=r'2 image topics .* choose with --image-topic'):
        BagSource(tmp_path / 'bag', Every(1), [], None)
    got = _all(BagSource(tmp_path / 'bag', Every(1), topics, None))
    assert sorted((f.stream, f.index) for f in got) == [(t, i) for t in topics for i in (0, 1)]
    assert len({f.key for f in got}) == 4
    calibration = {f.stream: f.intrinsics for f in got}
    left, right = (read_calibration(drive.parent / 'calib_cam_to_cam.txt', camera)
                   for camera in (2, 3))
    for topic, camera in zip(topics, (left, right)):
        assert calibration[topic] == (camera.p[0, 0], camera.p[1, 1], camera.p[0, 2],
                                      camera.p[1, 2])
