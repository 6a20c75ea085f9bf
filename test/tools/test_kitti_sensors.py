# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""KITTI drives with Velodyne, OXTS and the rig's calibration, converted and read back."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
from mcap.reader import make_reader
from mtl_perception.camera_model import camera_info_intrinsics
from mtl_perception.formats.kitti_oxts import parse_record
from mtl_perception.formats.ros_clouds import pointcloud2_to_array
from mtl_perception.formats.transform_tree import quaternion_matrix, TransformTree
from mtl_perception.tools.kitti_to_bag import main, optical_frame, TYPESTORE
import numpy as np
import pytest
from rosbags.rosbag2 import Reader

# KITTI's 2011_09_26 calibration (values as published, so the projection below is the
# devkit's on real numbers: P_rect_02 has non-zero P[1,3] and P[2,3]).
CAM_TO_CAM = '\n'.join([
    'calib_time: 09-Jan-2012 13:57:47',
    'S_rect_00: 1.242000e+03 3.750000e+02',
    'R_rect_00: 9.999239e-01 9.837760e-03 -7.445048e-03 -9.869795e-03 9.999421e-01 '
    '-4.278459e-03 7.402527e-03 4.351614e-03 9.999631e-01',
    'P_rect_00: 7.215377e+02 0.000000e+00 6.095593e+02 0.000000e+00 0.000000e+00 '
    '7.215377e+02 1.728540e+02 0.000000e+00 0.000000e+00 0.000000e+00 1.000000e+00 '
    '0.000000e+00',
    'S_rect_02: 1.242000e+03 3.750000e+02',
    'R_rect_02: 9.998817e-01 1.511453e-02 -2.841595e-03 -1.511724e-02 9.998853e-01 '
    '-9.338510e-04 2.827154e-03 9.766976e-04 9.999955e-01',
    'P_rect_02: 7.215377e+02 0.000000e+00 6.095593e+02 4.485728e+01 0.000000e+00 '
    '7.215377e+02 1.728540e+02 2.163791e-01 0.000000e+00 0.000000e+00 1.000000e+00 '
    '2.745884e-03']) + '\n'
VELO_TO_CAM = ('calib_time: 15-Mar-2012 11:37:16\n'
               'R: 7.533745e-03 -9.999714e-01 -6.166020e-04 1.480249e-02 7.280733e-04 '
               '-9.998902e-01 9.998621e-01 7.523790e-03 1.480755e-02\n'
               'T: -4.069766e-03 -7.631618e-02 -2.717806e-01\n')
IMU_TO_VELO = ('calib_time: 25-May-2012 16:47:16\n'
               'R: 9.999976e-01 7.553071e-04 -2.035826e-03 -7.854027e-04 9.998898e-01 '
               '-1.482298e-02 2.024406e-03 1.482454e-02 9.998881e-01\n'
               'T: -8.086759e-01 3.195559e-01 -7.997231e-01\n')
# Two OXTS records of drive 0001 (the second moved about 1 m and turned a little).
OXTS = ['49.015003823272 8.4342971002335 112.83492279053 0.022447 1e-05 -1.2219096732051 '
        '-3.3256321640686 1.1384311814592 3.5147680214713 0.037625160413037 '
        '-0.03878884255623 -0.29437452712477 0.037166856911681 9.9957015129717 '
        '-0.30918513461539 -0.067564725940286 9.9929150096267 -0.017332142869546 '
        '0.024792163815438 0.14511808479348 -0.017498934149631 0.021393359392165 '
        '0.14563031426063 0.49229361157252 0.068883960397178 4 10 4 4 0',
        '49.015007 8.434313 112.84 0.0231 2e-05 -1.2151 -3.33 1.14 3.52 0.04 -0.04 '
        '-0.29 0.04 9.99 -0.31 -0.07 9.99 -0.02 0.02 0.145 -0.018 0.021 0.146 0.49 0.07 '
        '4 10 4 4 0']
STAMPS = ['2011-09-26 13:02:25.964389445', '2011-09-26 13:02:26.068837614']
# Velodyne points (x forward, y left, z up) in front of the car, and one behind it.
POINTS = np.array([[10.0, 1.0, -0.5, 0.3], [20.0, -3.0, 0.5, 0.7], [6.0, 0.0, -1.6, 0.1],
                   [-8.0, 0.0, 0.0, 0.2]], np.float32)


def _write_drive(root: Path) -> Path:
    date = root / '2011_09_26'
    drive = date / '2011_09_26_drive_0001_sync'
    (date / 'calib_cam_to_cam.txt').parent.mkdir(parents=True)
    (date / 'calib_cam_to_cam.txt').write_text(CAM_TO_CAM)
    (date / 'calib_velo_to_cam.txt').write_text(VELO_TO_CAM)
    (date / 'calib_imu_to_velo.txt').write_text(IMU_TO_VELO)
    for folder, suffix, write in (
            ('image_02', 'png', lambda path, i: cv2.imwrite(
                str(path), np.full((375, 1242, 3), 40 * i, np.uint8))),
            ('velodyne_points', 'bin', lambda path, i: (POINTS + i).tofile(path)),
            ('oxts', 'txt', lambda path, i: path.write_text(OXTS[i] + '\n'))):
        (drive / folder / 'data').mkdir(parents=True)
        for index in range(2):
            write(drive / folder / 'data' / f'{index:010d}.{suffix}', index)
        (drive / folder / 'timestamps.txt').write_text('\n'.join(STAMPS) + '\n')
    return drive


@pytest.fixture(scope='module')
def converted(tmp_path_factory) -> tuple[Path, Path]:
    """Write a two-frame KITTI drive with every sensor and convert it to an MCAP bag."""
    root = tmp_path_factory.mktemp('kitti_sensors')
    drive = _write_drive(root / 'raw')
    assert main([str(drive), str(root / 'bag'), '--no-progress']) == 0
    return drive, root / 'bag'


def _messages(bag: Path) -> dict[str, list[object]]:
    found: dict[str, list[object]] = {}
    with Reader(bag) as reader:
        for connection, _, raw in reader.messages():
            found.setdefault(connection.topic, []).append(
                TYPESTORE.deserialize_cdr(raw, connection.msgtype))
    return found


def _tree(messages: dict[str, list[object]]) -> TransformTree:
    tree = TransformTree()
    for message in messages['/tf_static']:
        for item in message.transforms:
            tree.add(item.header.frame_id, item.child_frame_id, item.transform.translation,
                     item.transform.rotation)
    return tree


def _devkit_pixels(points: np.ndarray) -> np.ndarray:
    """``P_rect_02 @ R_rect_00 @ Tr_velo_to_cam @ x``, from the calibration text above."""
    def numbers(text: str, key: str) -> np.ndarray:
        line = next(line for line in text.splitlines() if line.startswith(key + ':'))
        return np.array([float(v) for v in line.split(':')[1].split()])

    p = numbers(CAM_TO_CAM, 'P_rect_02').reshape(3, 4)
    r_rect = np.eye(4)
    r_rect[:3, :3] = numbers(CAM_TO_CAM, 'R_rect_00').reshape(3, 3)
    velo_to_cam = np.eye(4)
    velo_to_cam[:3, :3] = numbers(VELO_TO_CAM, 'R').reshape(3, 3)
    velo_to_cam[:3, 3] = numbers(VELO_TO_CAM, 'T')
    image = (p @ r_rect @ velo_to_cam @ np.c_[points, np.ones(len(points))].T).T
    return image[:, :2] / image[:, 2:]


def test_a_lidar_point_projects_through_the_bags_tf_and_camera_info_to_the_devkits_pixel(
        converted):
    _, bag = converted
    messages = _messages(bag)
    cloud = messages['/kitti/velo/pointcloud'][0]
    fields = pointcloud2_to_array(cloud).reshape(-1)
    points = np.stack([fields['x'], fields['y'], fields['z']], 1).astype(np.float64)
    np.testing.assert_array_equal(fields['intensity'], POINTS[:, 3])
    camera = optical_frame(2)
    info = messages['/kitti/camera_color_left/camera_info'][0]
    transform = _tree(messages).lookup(camera, cloud.header.frame_id)
    in_camera = points @ transform[:3, :3].T + transform[:3, 3]
    k = camera_info_intrinsics(info)
    ahead = in_camera[:, 2] > 0
    pixels = np.stack([k.fx * in_camera[:, 0] / in_camera[:, 2] + k.cx,
                       k.fy * in_camera[:, 1] / in_camera[:, 2] + k.cy], 1)
    assert ahead.tolist() == [True, True, True, False]
    np.testing.assert_allclose(pixels[ahead], _devkit_pixels(points[ahead]), atol=0.5)
    assert np.abs(pixels[ahead] - _devkit_pixels(points[ahead])).max() < 1e-3


def test_the_tf_tree_is_complete_connected_and_named_as_rep_105_and_kitti2bag(converted):
    _, bag = converted
    messages = _messages(bag)
    tree = _tree(messages)
    assert tree.frames == {'base_link', 'imu_link', 'velo_link', optical_frame(2)}
    for frame in tree.frames:
        assert tree.lookup('base_link', frame) is not None, frame
    parents = {(item.header.frame_id, item.child_frame_id)
               for item in messages['/tf_static'][0].transforms}
    assert parents == {('base_link', 'imu_link'), ('imu_link', 'velo_link'),
                       ('velo_link', optical_frame(2))}
    moving = [m.transforms[0] for m in messages['/tf']]
    assert {(t.header.frame_id, t.child_frame_id) for t in moving} == {('world', 'base_link')}
    # the first pose is the world's origin (for the IMU); the second is ~1 m further on
    imu_in_base = tree.lookup('base_link', 'imu_link')[:3, 3]
    first = moving[0].transform
    first_pose = np.eye(4)
    first_pose[:3, :3] = quaternion_matrix(first.rotation.x, first.rotation.y,
                                           first.rotation.z, first.rotation.w)
    first_pose[:3, 3] = (first.translation.x, first.translation.y, first.translation.z)
    np.testing.assert_allclose((first_pose @ np.r_[imu_in_base, 1])[:3], 0.0, atol=1e-9)
    second = moving[1].transform.translation
    travelled = math.hypot(second.x - first.translation.x, second.y - first.translation.y)
    assert 0.3 < travelled < 1.5


def _euler_quaternion(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """(x, y, z, w) of Rz(yaw) Ry(pitch) Rx(roll), the textbook formula."""
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    return np.array([sr * cp * cy - cr * sp * sy, cr * sp * cy + sr * cp * sy,
                     cr * cp * sy - sr * sp * cy, cr * cp * cy + sr * sp * sy])


def test_imu_gps_and_velocity_equal_the_oxts_text(converted):
    drive, bag = converted
    messages = _messages(bag)
    record = parse_record(drive / 'oxts' / 'data' / '0000000000.txt')
    values = [float(v) for v in OXTS[0].split()]
    assert (record.lat, record.lon, record.alt, record.yaw) == (values[0], values[1],
                                                                values[2], values[5])
    imu = messages['/kitti/oxts/imu'][0]
    quaternion = np.array([imu.orientation.x, imu.orientation.y, imu.orientation.z,
                           imu.orientation.w])
    np.testing.assert_allclose(quaternion, _euler_quaternion(*values[3:6]), atol=1e-12)
    # the unit's own axes (wx..wz, ax..az), as kitti2bag writes them
    assert (imu.angular_velocity.x, imu.angular_velocity.y, imu.angular_velocity.z) == tuple(
        values[17:20])
    assert (imu.linear_acceleration.x, imu.linear_acceleration.y,
            imu.linear_acceleration.z) == tuple(values[11:14])
    fix = messages['/kitti/oxts/gps/fix'][0]
    assert (fix.latitude, fix.longitude, fix.altitude) == tuple(values[0:3])
    assert fix.position_covariance[0] == pytest.approx(values[23] ** 2)
    twist = messages['/kitti/oxts/gps/vel'][0].twist
    assert (twist.linear.x, twist.linear.y, twist.linear.z) == tuple(values[8:11])
    assert (twist.angular.x, twist.angular.y, twist.angular.z) == tuple(values[20:23])
    stamp = imu.header.stamp
    assert (stamp.sec, stamp.nanosec, imu.header.frame_id) == (1317042145, 964389445,
                                                               'imu_link')


def test_the_bag_reads_with_the_mcap_library_and_declares_tf_static_latched(converted):
    _, bag = converted
    counts: dict[str, int] = {}
    schemas: dict[str, str] = {}
    with next(bag.glob('*.mcap')).open('rb') as stream:
        for schema, channel, _ in make_reader(stream).iter_messages():
            counts[channel.topic] = counts.get(channel.topic, 0) + 1
            schemas[channel.topic] = schema.name
    assert counts == {'/kitti/camera_color_left/image_raw': 2,
                      '/kitti/camera_color_left/camera_info': 2, '/tf_static': 1,
                      '/kitti/velo/pointcloud': 2, '/kitti/oxts/imu': 2,
                      '/kitti/oxts/gps/fix': 2, '/kitti/oxts/gps/vel': 2, '/tf': 2}
    assert schemas['/tf_static'] == 'tf2_msgs/msg/TFMessage'
    assert schemas['/kitti/oxts/gps/vel'] == 'geometry_msgs/msg/TwistStamped'
    with Reader(bag) as reader:
        static = next(c for c in reader.connections if c.topic == '/tf_static')
        profile = static.ext.offered_qos_profiles[0]
    assert profile.durability.name == 'TRANSIENT_LOCAL'


def test_gray_cameras_are_mono8_on_kitti2bag_topics(tmp_path):
    from mtl_perception.synthetic.kitti_layout import write_kitti_drive
    drive = write_kitti_drive(tmp_path / 'raw', seed=5, frames=1, width=32, height=16,
                              cameras=(0, 2), sensors=False, with_depth=False, progress=False)
    assert main([str(drive), str(tmp_path / 'bag'), '--gray', '--no-progress']) == 0
    image = _messages(tmp_path / 'bag')['/kitti/camera_gray_left/image_raw'][0]
    expected = cv2.imread(str(drive / 'image_00' / 'data' / '0000000000.png'),
                          cv2.IMREAD_UNCHANGED)
    assert (image.encoding, image.header.frame_id) == ('mono8',
                                                       'kitti_camera_gray_left_optical_frame')
    np.testing.assert_array_equal(image.data.reshape(16, 32), expected)


@pytest.mark.parametrize('damage', ['truncated scan', 'missing calibration', 'bad oxts'])
def test_a_broken_sensor_part_is_one_line_naming_it_and_no_bag(tmp_path, capsys, damage):
    drive = _write_drive(tmp_path / 'raw')
    if damage == 'truncated scan':
        culprit = drive / 'velodyne_points' / 'data' / '0000000001.bin'
        culprit.write_bytes(culprit.read_bytes()[:-5])
    elif damage == 'missing calibration':
        culprit = drive.parent / 'calib_velo_to_cam.txt'
        culprit.unlink()
    else:
        culprit = drive / 'oxts' / 'data' / '0000000001.txt'
        culprit.write_text(OXTS[1].rsplit(' ', 3)[0] + '\n')
    assert main([str(drive), str(tmp_path / 'bag'), '--no-progress']) == 2
    error = capsys.readouterr().err
    assert error.count('\n') == 1 and str(culprit) in error and 'Traceback' not in error
    assert sorted(p.name for p in tmp_path.iterdir()) == ['raw']


def test_a_drive_without_lidar_or_oxts_says_so_and_gives_the_cameras_only(tmp_path, caplog):
    drive = _write_drive(tmp_path / 'raw')
    for part in ('velodyne_points', 'oxts'):
        for path in sorted((drive / part).rglob('*'), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        (drive / part).rmdir()
    caplog.set_level('INFO')
    assert main([str(drive), str(tmp_path / 'bag'), '--no-progress']) == 0
    assert 'has no velodyne_points/: no LiDAR in the bag' in caplog.text
    assert 'has no oxts/: no IMU, GPS or /tf in the bag' in caplog.text
    with Reader(tmp_path / 'bag') as reader:
        assert {c.topic for c in reader.connections} == {
            '/kitti/camera_color_left/image_raw', '/kitti/camera_color_left/camera_info'}
