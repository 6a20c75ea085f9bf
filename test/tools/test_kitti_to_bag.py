# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""KITTI raw layout parsing and conversion to rosbag2, read back with rosbags."""

from __future__ import annotations

from pathlib import Path

import cv2
from mtl_perception.errors import KittiLayoutError
from mtl_perception.formats.kitti_raw import parse_timestamp, read_calibration, read_camera_stream
from mtl_perception.synthetic.kitti_layout import write_kitti_drive
from mtl_perception.tools.kitti_to_bag import camera_topics, main, optical_frame, TYPESTORE
import numpy as np
import pytest
from rosbags.rosbag2 import Reader

# Real values of KITTI's 2011_09_26 calibration (camera 2).
CALIBRATION = '\n'.join([
    'calib_time: 09-Jan-2012 13:57:47',
    'S_rect_02: 1.242000e+03 3.750000e+02',
    'R_rect_02: 9.998817e-01 1.511453e-02 -2.841595e-03 -1.511724e-02 9.998853e-01 '
    '-9.338510e-04 2.827154e-03 9.766976e-04 9.999955e-01',
    'P_rect_02: 7.215377e+02 0.000000e+00 6.095593e+02 4.485728e+01 0.000000e+00 '
    '7.215377e+02 1.728540e+02 2.163791e-01 0.000000e+00 0.000000e+00 1.000000e+00 '
    '2.745884e-03',
]) + '\n'


@pytest.fixture(scope='module')
def drive(tmp_path_factory) -> Path:
    """Render a three-frame stereo drive with depth ground truth in KITTI's layout."""
    root = tmp_path_factory.mktemp('kitti')
    return write_kitti_drive(root, seed=4, frames=3, width=64, height=24, progress=False)


def test_timestamps_parse_to_nanoseconds_since_the_epoch():
    assert parse_timestamp('2011-09-26 13:02:25.964389445') == 1317042145_964389445
    assert parse_timestamp('2011-09-26 13:02:26.0') == 1317042146_000000000


def test_the_rectified_calibration_is_read_against_hand_values(tmp_path):
    path = tmp_path / 'calib_cam_to_cam.txt'
    path.write_text(CALIBRATION)
    camera = read_calibration(path, 2)
    assert (camera.width, camera.height) == (1242, 375)
    np.testing.assert_allclose(camera.k, [[721.5377, 0, 609.5593], [0, 721.5377, 172.854],
                                          [0, 0, 1]])
    assert camera.p[0, 3] == pytest.approx(44.85728)
    assert camera.r[0, 1] == pytest.approx(0.01511453)


def test_a_missing_calibration_entry_is_named(tmp_path):
    path = tmp_path / 'calib_cam_to_cam.txt'
    path.write_text(CALIBRATION)
    with pytest.raises(KittiLayoutError, match=r'no S_rect_03 entry'):
        read_calibration(path, 3)


def test_frame_and_timestamp_counts_must_agree(drive, tmp_path):
    stream = read_camera_stream(drive, 2)
    assert len(stream.images) == 3
    assert np.diff(stream.stamps).tolist() == [100_000_000, 100_000_000]
    broken = tmp_path / drive.parent.name / drive.name
    broken.mkdir(parents=True)
    (broken / 'image_02' / 'data').mkdir(parents=True)
    cv2.imwrite(str(broken / 'image_02' / 'data' / '0000000000.png'),
                np.zeros((4, 4, 3), np.uint8))
    (broken / 'image_02' / 'timestamps.txt').write_text(
        '2011-09-26 13:02:25.0\n2011-09-26 13:02:25.1\n')
    with pytest.raises(KittiLayoutError, match=r'lists 2 timestamps but .* holds 1 files'):
        read_camera_stream(broken, 2)


def test_a_missing_camera_folder_is_named(drive):
    with pytest.raises(KittiLayoutError, match=r'image_01/data not found'):
        read_camera_stream(drive, 1)


def _read_bag(path: Path) -> dict[str, list[tuple[int, object]]]:
    messages: dict[str, list[tuple[int, object]]] = {}
    with Reader(path) as reader:
        for connection, stamp, raw in reader.messages():
            message = TYPESTORE.deserialize_cdr(raw, connection.msgtype)
            messages.setdefault(connection.topic, []).append((stamp, message))
    return messages


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_a_drive_converts_to_a_bag_that_rosbags_reads_back(drive, tmp_path, storage):
    output = tmp_path / f'drive_{storage}'
    assert main([str(drive), str(output), '--storage', storage, '--camera', 'both',
                 '--depth-root', str(drive.parents[1] / 'depth'), '--no-progress']) == 0
    messages = _read_bag(output)
    left, right = camera_topics(2), camera_topics(3)
    assert {topic: len(items) for topic, items in messages.items()} == {
        left['image']: 3, left['camera_info']: 3, left['depth']: 3, right['image']: 3,
        right['camera_info']: 3, '/kitti/velo/pointcloud': 3, '/kitti/oxts/imu': 3,
        '/kitti/oxts/gps/fix': 3, '/kitti/oxts/gps/vel': 3, '/tf': 3, '/tf_static': 1}
    stamps = [stamp for stamp, _ in messages[left['image']]]
    assert stamps == [1317042145_000000000 + i * 100_000_000 for i in range(3)]
    first = messages[left['image']][0][1]
    assert (first.header.frame_id, first.encoding, first.height, first.width) == (
        optical_frame(2), 'rgb8', 24, 64)
    expected = cv2.imread(str(drive / 'image_02' / 'data' / '0000000000.png'))[:, :, ::-1]
    np.testing.assert_array_equal(first.data.reshape(24, 64, 3), expected)
    info = messages[right['camera_info']][0][1]
    assert list(info.r) == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]  # rectified images
    assert info.k[0] == pytest.approx(0.581 * 64) and info.p[3] == pytest.approx(
        -0.581 * 64 * 0.54)
    depth = messages[left['depth']][0][1]
    values = depth.data.view(np.float32).reshape(24, 64)
    assert depth.encoding == '32FC1' and np.isnan(values).any() and np.nanmax(values) <= 80.0


def test_an_existing_output_is_not_overwritten(drive, tmp_path, capsys):
    (tmp_path / 'exists').mkdir()
    assert main([str(drive), str(tmp_path / 'exists'), '--no-progress']) == 2
    assert 'already exists' in capsys.readouterr().err


def test_an_image_of_another_size_than_the_calibration_is_reported(drive, tmp_path, capsys):
    calibration = drive.parent / 'calib_cam_to_cam.txt'
    original = calibration.read_text()
    calibration.write_text(original.replace('S_rect_02: 6.400000e+01',
                                            'S_rect_02: 6.500000e+01'))
    try:
        assert main([str(drive), str(tmp_path / 'bag'), '--no-progress']) == 2
    finally:
        calibration.write_text(original)
    assert 'is 64x24 but the calibration S_rect says 65x24' in capsys.readouterr().err


@pytest.mark.parametrize('damage', ['corrupt', 'truncated', 'empty', 'wrong size'])
def test_a_broken_png_mid_drive_leaves_no_partial_bag_and_a_rerun_works(tmp_path, damage):
    root = tmp_path / 'raw'
    drive = write_kitti_drive(root, seed=3, frames=4, width=64, height=24, sensors=False,
                              progress=False)
    image = drive / 'image_02' / 'data' / '0000000002.png'
    original = image.read_bytes()
    if damage == 'corrupt':
        image.write_bytes(original[:40] + bytes(200) + original[240:])
    elif damage == 'truncated':
        image.write_bytes(original[:len(original) // 2])
    elif damage == 'empty':
        image.write_bytes(b'')
    else:
        cv2.imwrite(str(image), np.zeros((10, 10, 3), np.uint8))
    assert main([str(drive), str(tmp_path / 'bag'), '--no-progress']) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ['raw']
    image.write_bytes(original)
    assert main([str(drive), str(tmp_path / 'bag'), '--no-progress']) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ['bag', 'raw']
    with Reader(tmp_path / 'bag') as reader:
        # a camera-only drive gives what it always gave: images and camera info, no tf
        assert {c.topic: c.msgcount for c in reader.connections} == {
            camera_topics(2)['image']: 4, camera_topics(2)['camera_info']: 4}
