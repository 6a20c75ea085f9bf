# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""perception_node as a separate process, driven over real DDS from this test process."""

from __future__ import annotations

import os
from pathlib import Path
import re
import signal
import time

from bad_frames import distort
import cv2
from mtl_perception.checkpoint import load_checkpoint
from mtl_perception.formats.compressed_depth import decode_compressed_depth
from mtl_perception.formats.ros_clouds import pointcloud2_to_array
from mtl_perception.formats.ros_images import image_to_array
from mtl_perception.geometry import backproject, Intrinsics
from mtl_perception.inference import Predictor
from mtl_perception.ros.conversions import array_to_image
from mtl_perception.visualize import colourise_depth
import numpy as np
import pytest
import rclpy
from ros_fixtures import (Client, domain_id, FRAME, image_message, info_message, K, OUTPUTS,
                          RunningProcess, start_node, street_frame)
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header
import torch

NAMESPACE = '/node_test'
P = (52.0, 0.0, 30.0, 0.0, 0.0, 50.0, 22.0, 0.0, 0.0, 0.0, 1.0, 0.0)  # rectified camera
D = (-0.3, 0.08, 0.0, 0.0, 0.0)  # strong barrel distortion: pixels move by up to 3


def _domain_id() -> str:
    return str(domain_id('node'))


def _start_node(model: Path | str, *parameters: str) -> RunningProcess:
    return start_node(model, 'point_stride:=1', 'diagnostics_period:=0.5', *parameters,
                      namespace=NAMESPACE, domain=_domain_id())


@pytest.fixture(scope='module')
def ros_context():
    """Initialise rclpy in this process on the test's DDS domain."""
    os.environ['ROS_DOMAIN_ID'] = _domain_id()
    rclpy.init()
    yield
    rclpy.shutdown()


PROVIDERS = {'torch': 'torch cpu', 'onnxruntime': 'CPUExecutionProvider'}


@pytest.fixture(scope='module', params=sorted(PROVIDERS))
def node_process(request, ros_context, checkpoint_path):
    """Start perception_node on the small test checkpoint with each backend in turn."""
    process = _start_node(checkpoint_path, f'backend:={request.param}')
    process.backend = request.param
    yield process
    process.stop()


@pytest.fixture(scope='module')
def client(ros_context, node_process):
    """Test-side node."""
    client = Client(NAMESPACE)
    yield client
    client.node.destroy_node()


@pytest.fixture(scope='module')
def image() -> np.ndarray:
    """Make a 64x48 frame with structure."""
    return street_frame()


def test_all_four_outputs_carry_the_input_header_encodings_and_size(client, image):
    outputs = client.request(image_message(image), info_message())
    for name, msg in outputs.items():
        assert msg.header.frame_id == FRAME, name
    assert outputs['segmentation'].encoding == 'mono8'
    assert outputs['segmentation/color'].encoding == 'rgb8'
    assert outputs['depth/image'].encoding == '32FC1'
    for name in ('segmentation', 'segmentation/color', 'depth/image'):
        assert (outputs[name].height, outputs[name].width) == (48, 64), name
    cloud = outputs['points']
    assert (cloud.height, cloud.width) == (48, 64)
    assert [f.name for f in cloud.fields] == ['x', 'y', 'z', 'rgb', 'label']
    assert cloud.point_step == 20


def test_a_two_task_model_advertises_no_normals(client, image):
    client.request(image_message(image), info_message())
    for topic in ('normals', 'normals/color'):
        assert client.node.get_publishers_info_by_topic(
            f'{NAMESPACE}/mtl_perception/{topic}') == []


def test_segmentation_and_depth_equal_the_predictor_on_the_same_frame(client, image,
                                                                      checkpoint_path):
    outputs = client.request(image_message(image, 'bgr8'), info_message())
    predictor = Predictor.from_checkpoint(checkpoint_path, device='cpu')
    expected = predictor.predict(image)
    labels = image_to_array(outputs['segmentation'])
    assert (labels != expected.labels).mean() < 1e-3
    depth = image_to_array(outputs['depth/image'])
    np.testing.assert_allclose(depth, expected.depth, rtol=1e-4, equal_nan=True)
    palette = expected.palette
    np.testing.assert_array_equal(image_to_array(outputs['segmentation/color']), palette[labels])
    colours = image_to_array(outputs['depth/color'])
    assert outputs['depth/color'].encoding == 'rgb8'
    np.testing.assert_array_equal(colours, colourise_depth(depth, predictor.depth_range))


def test_depth_camera_info_pairs_with_depth_by_header_and_holds_its_intrinsics(client, image):
    doubled = tuple(v * 2 if i in (0, 2, 4, 5) else v for i, v in enumerate(K))
    sent = info_message(128, 96, doubled)
    sent.d, sent.distortion_model = [0.1, -0.05, 0.0, 0.0, 0.0], 'plumb_bob'
    outputs = client.request(image_message(image), sent)
    info, depth = outputs['depth/camera_info'], outputs['depth/image']
    assert info.header == depth.header
    assert (info.width, info.height) == (depth.width, depth.height) == (64, 48)
    expected = Intrinsics.from_matrix(doubled, 128, 96).scaled(64, 48)
    np.testing.assert_allclose(np.array(info.k).reshape(3, 3), expected.matrix, rtol=1e-9)
    # it describes the (rectified) depth image itself: no distortion, P = [K | 0]
    assert list(info.d) == [] and list(info.r) == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    np.testing.assert_allclose(np.array(info.p).reshape(3, 4)[:, :3], expected.matrix)


def _rectified_info(k=K, p=P) -> CameraInfo:
    info = info_message(k=k)
    info.p = list(p)
    return info


def test_points_are_back_projected_with_p_when_the_camera_info_sets_it(client, image):
    outputs = client.request(image_message(image), _rectified_info())
    depth = image_to_array(outputs['depth/image'])
    with_p = Intrinsics(P[0], P[5], P[2], P[6], 64, 48)
    expected = backproject(torch.from_numpy(depth.copy()), with_p).numpy()
    cloud = pointcloud2_to_array(outputs['points'])
    np.testing.assert_allclose(cloud['x'], expected[..., 0], rtol=1e-5, atol=1e-6,
                               equal_nan=True)
    np.testing.assert_allclose(np.array(outputs['depth/camera_info'].k).reshape(3, 3),
                               with_p.matrix)


def test_rectify_undistorts_a_raw_frame_with_its_camera_info(client, image, checkpoint_path):
    info = _rectified_info()
    info.distortion_model, info.d = 'plumb_bob', list(D)
    raw = distort(image, info)
    k, p = np.array(K).reshape(3, 3), np.array(P).reshape(3, 4)[:, :3]
    reference = cv2.undistort(raw, k, np.array(D), None, p)  # OpenCV's one-call rectification
    expected = Predictor.from_checkpoint(checkpoint_path, device='cpu').predict(reference)
    assert _set_parameters(client, rectify=True)[0].successful
    try:
        outputs = client.request(image_message(raw), info, outputs=('segmentation', 'depth/image'))
    finally:
        assert _set_parameters(client, rectify=False)[0].successful
    assert (image_to_array(outputs['segmentation']) == expected.labels).mean() > 0.99
    depth = image_to_array(outputs['depth/image'])
    both = np.isfinite(depth) & np.isfinite(expected.depth)
    assert np.median(np.abs(depth[both] / expected.depth[both] - 1)) < 0.01
    unrectified = client.request(image_message(raw), info, outputs=('segmentation',))
    assert (image_to_array(unrectified['segmentation']) != expected.labels).any()


@pytest.mark.parametrize(('d', 'said'), [
    ([float('nan'), 0.0, 0.0, 0.0, 0.0], 'camera_info D holds a value that is not finite'),
    ([1e30, 0.0, 0.0, 0.0, 0.0], 'camera_info D/R/P are implausible for this camera')])
def test_rectify_refuses_a_distortion_that_cannot_be_undone_and_publishes_nothing_for_it(
        client, node_process, image, d, said):
    broken, sound = _rectified_info(), _rectified_info()
    broken.distortion_model, broken.d = 'plumb_bob', d
    sound.distortion_model, sound.d = 'plumb_bob', list(D)
    assert _set_parameters(client, rectify=True)[0].successful
    try:
        first = client.stamp + 1
        client.pump_until(lambda: node_process.has_line(said), image_message(image), broken)
        refused = range(first, client.stamp + 1)
        client.request(image_message(image), sound, outputs=('segmentation',))
    finally:
        assert _set_parameters(client, rectify=False)[0].successful
    assert not any(stamp * 10**9 in client.received[name]
                   for name in OUTPUTS for stamp in refused)  # no confident false scene
    assert len([line for line in node_process.lines if said in line]) == 1
    values = {kv.key: kv.value for kv in client.fresh_status().values}
    assert int(values['frames_bad']) >= 1


def test_class_info_is_latched_for_late_subscribers(client, checkpoint_path):
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
    from std_msgs.msg import String
    import yaml
    received = []
    latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)
    subscription = client.node.create_subscription(
        String, 'mtl_perception/class_info', received.append, latched)
    deadline = time.monotonic() + 30
    while not received and time.monotonic() < deadline:
        rclpy.spin_once(client.node, timeout_sec=0.1)
    client.node.destroy_subscription(subscription)
    assert received, 'no ~/class_info within 30 s'
    document = yaml.safe_load(received[0].data)
    metadata = load_checkpoint(checkpoint_path).metadata
    assert [c['name'] for c in document['classes']] == list(metadata.class_names)
    assert [tuple(c['color']) for c in document['classes']] == list(metadata.palette)
    assert [c['id'] for c in document['classes']] == list(range(metadata.num_classes))
    assert document['model'] == checkpoint_path.name


def test_every_point_is_its_depth_pixel_back_projected_with_the_camera_info(client, image):
    outputs = client.request(image_message(image), info_message())
    depth = image_to_array(outputs['depth/image'])
    intrinsics = Intrinsics.from_matrix(K, 64, 48)
    expected = backproject(torch.from_numpy(depth.copy()), intrinsics).numpy()
    cloud = pointcloud2_to_array(outputs['points'])
    for axis, name in enumerate('xyz'):
        np.testing.assert_allclose(cloud[name], expected[..., axis], rtol=1e-5, atol=1e-6,
                                   equal_nan=True)
    np.testing.assert_array_equal(cloud['label'], image_to_array(outputs['segmentation']))


def camera_info_topic(image_topic: str) -> str:
    """Return the CameraInfo topic image_transport pairs with ``image_topic``: its sibling."""
    return f'{image_topic.rsplit("/", 1)[0]}/camera_info'


class DepthImageProcLike:
    """Pair depth images with their sibling CameraInfo and back-project as depth_image_proc.

    The CameraInfo topic is derived from the image topic as image_transport does, messages
    are paired by exact stamp, and points use P's fx, fy, cx, cy (point_cloud_xyz).
    """

    def __init__(self, client: Client, image_topic: str) -> None:
        self.images, self.infos = {}, {}
        key = Client.stamp_of
        client.node.create_subscription(Image, image_topic,
                                        lambda m: self.images.__setitem__(key(m), m), 10)
        client.node.create_subscription(CameraInfo, camera_info_topic(image_topic),
                                        lambda m: self.infos.__setitem__(key(m), m), 10)

    def cloud(self, stamp: int) -> np.ndarray:
        depth = image_to_array(self.images[stamp]).astype(np.float64)
        p = np.array(self.infos[stamp].p).reshape(3, 4)
        v, u = np.mgrid[:depth.shape[0], :depth.shape[1]]
        return np.stack([(u - p[0, 2]) / p[0, 0] * depth, (v - p[1, 2]) / p[1, 1] * depth,
                         depth], axis=-1)


def test_a_depth_image_proc_style_consumer_pairs_by_sibling_topic_and_gets_the_same_cloud(
        client, image):
    consumer = DepthImageProcLike(client, f'{NAMESPACE}/mtl_perception/depth/image')
    outputs = client.request(image_message(image), _rectified_info(), outputs=('points',))
    stamp = Client.stamp_of(outputs['points'])
    deadline = time.monotonic() + 30
    while not (stamp in consumer.images and stamp in consumer.infos) and (
            time.monotonic() < deadline):
        rclpy.spin_once(client.node, timeout_sec=0.05)
    expected = consumer.cloud(stamp)
    cloud = pointcloud2_to_array(outputs['points'])
    for axis, name in enumerate('xyz'):
        np.testing.assert_allclose(cloud[name], expected[..., axis], rtol=1e-5, atol=1e-5,
                                   equal_nan=True)


def test_every_output_image_has_its_camera_info_on_the_sibling_topic(client, image):
    siblings = {name: camera_info_topic(f'{NAMESPACE}/mtl_perception/{name}')
                for name in ('segmentation', 'segmentation/color', 'depth/image')}
    assert sorted(set(siblings.values())) == [f'{NAMESPACE}/mtl_perception/{name}' for name in
                                              ('camera_info', 'depth/camera_info',
                                               'segmentation/camera_info')]
    received = {topic: [] for topic in siblings.values()}
    for topic, messages in received.items():
        client.node.create_subscription(CameraInfo, topic, messages.append, 10)
    stamp = Client.stamp_of(client.request(image_message(image), _rectified_info(),
                                           outputs=('segmentation',))['segmentation'])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(
            any(Client.stamp_of(m) == stamp for m in messages) for messages in received.values()):
        rclpy.spin_once(client.node, timeout_sec=0.05)
    for topic, messages in received.items():
        info = next(m for m in messages if Client.stamp_of(m) == stamp)
        assert (info.width, info.height) == (64, 48), topic


def test_compressed_outputs_decode_to_the_raw_ones(client, image):
    topics = {'segmentation/compressed': 'mono8; png compressed ',
              'segmentation/color/compressed': 'rgb8; jpeg compressed bgr8',
              'depth/image/compressedDepth': '32FC1; compressedDepth png'}
    received = {topic: {} for topic in topics}
    for topic, messages in received.items():
        client.node.create_subscription(
            CompressedImage, f'mtl_perception/{topic}',
            lambda m, messages=messages: messages.__setitem__(Client.stamp_of(m), m), 10)
    outputs = client.request(image_message(image), info_message(),
                             outputs=('segmentation', 'segmentation/color', 'depth/image'))
    stamp = Client.stamp_of(outputs['segmentation'])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(stamp in m for m in received.values()):
        rclpy.spin_once(client.node, timeout_sec=0.05)
    compressed = {topic: messages[stamp] for topic, messages in received.items()}
    for topic, format_ in topics.items():
        assert compressed[topic].format == format_ and compressed[topic].header.frame_id == FRAME
    labels = cv2.imdecode(np.frombuffer(compressed['segmentation/compressed'].data, np.uint8),
                          cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(labels, image_to_array(outputs['segmentation']))
    colour = cv2.imdecode(np.frombuffer(compressed['segmentation/color/compressed'].data,
                                        np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
    raw_colour = image_to_array(outputs['segmentation/color']).astype(int)
    assert np.abs(colour.astype(int) - raw_colour).mean() < 6  # JPEG quality 90
    depth = decode_compressed_depth(bytes(compressed['depth/image/compressedDepth'].data))
    raw_depth = image_to_array(outputs['depth/image'])
    finite = np.isfinite(raw_depth)
    np.testing.assert_array_equal(np.isfinite(depth), finite)  # +-Inf markers: no depth
    step = raw_depth[finite] ** 2 / (100.0 * 101.0)  # the format's quantisation step
    assert (np.abs(depth[finite] - raw_depth[finite]) <= step + 1e-4).all()


def test_a_camera_info_of_a_larger_stream_is_rescaled_to_the_image(client, image):
    doubled = tuple(v * 2 if i in (0, 2, 4, 5) else v for i, v in enumerate(K))
    outputs = client.request(image_message(image), info_message(128, 96, doubled))
    cloud = pointcloud2_to_array(outputs['points'])
    depth = image_to_array(outputs['depth/image'])
    expected = backproject(torch.from_numpy(depth.copy()),
                           Intrinsics.from_matrix(doubled, 128, 96).scaled(64, 48)).numpy()
    np.testing.assert_allclose(cloud['x'], expected[..., 0], rtol=1e-5, atol=1e-6,
                               equal_nan=True)


def _bad_frames(image: np.ndarray) -> dict[str, tuple[Image, CameraInfo | None]]:
    unknown = image_message(image)
    unknown.encoding = 'yuv420'
    empty = Image(height=0, width=0, encoding='rgb8', step=0)
    truncated = image_message(image)
    truncated.data = truncated.data[:100]
    depth_image = array_to_image(np.full((48, 64), np.nan, np.float32), '32FC1', Header())
    return {
        'unknown encoding': (unknown, info_message()),
        'zero-size image': (empty, info_message()),
        'data shorter than height*step': (truncated, info_message()),
        'camera_info of another aspect ratio': (image_message(image), info_message(64, 64)),
        'all-zero K': (image_message(image), info_message(k=(0.0,) * 9)),
        'NaN depth image on the camera topic': (depth_image, info_message()),
        'principal point far outside the image': (image_message(image), info_message(
            k=(60.0, 0.0, 1e30, 0.0, 58.0, 23.5, 0.0, 0.0, 1.0))),
        'focal length near zero': (image_message(image), info_message(
            k=(1e-30, 0.0, 31.5, 0.0, 58.0, 23.5, 0.0, 0.0, 1.0))),
    }


def test_bad_frames_are_skipped_and_the_node_keeps_serving_correctly(client, node_process,
                                                                     image):
    for frame, info in _bad_frames(image).values():
        client.send(frame, info)
        client.spin(0.3)
    assert node_process.process.poll() is None
    outputs = client.request(image_message(image), info_message())
    depth = image_to_array(outputs['depth/image'])
    expected = backproject(torch.from_numpy(depth.copy()), Intrinsics.from_matrix(K, 64, 48))
    np.testing.assert_allclose(pointcloud2_to_array(outputs['points'])['z'],
                               expected[..., 2].numpy(), rtol=1e-5, equal_nan=True)


def test_a_burst_far_above_the_processing_rate_is_dropped_not_queued(client, node_process,
                                                                     image):
    for _ in range(200):
        client.send(image_message(image), info_message())
    client.spin(3.0)
    assert node_process.process.poll() is None
    values = {kv.key: kv.value for kv in client.fresh_status().values}
    assert int(values['frames_dropped']) > 0
    assert int(values['frames_bad']) >= len(_bad_frames(image)) - 1
    assert client.request(image_message(image), info_message(), outputs=('segmentation',))


def test_diagnostics_report_rate_latency_drops_device_and_backend(client, node_process):
    status = client.fresh_status()
    values = {kv.key: kv.value for kv in status.values}
    assert values['backend'] == node_process.backend
    assert values['provider'] == PROVIDERS[node_process.backend]
    assert status.name == f'{NAMESPACE}/mtl_perception: perception'
    assert status.hardware_id == 'cpu'
    assert {'rate_hz', 'latency_p50_ms', 'latency_p95_ms', 'frames_received',
            'frames_processed', 'frames_dropped', 'frames_bad', 'device', 'model',
            'inference_ms_p50', 'outputs_ms_p50'} <= set(values)
    assert float(values['outputs_ms_p50']) > 0.0
    assert float(values['inference_ms_p50']) > 0.0


def test_without_camera_info_or_fallback_no_cloud_is_published_but_images_are(client, image):
    outputs = client.request(image_message(image), None, outputs=('segmentation', 'depth/image'),
                             frame='uncalibrated_frame')
    stamp = outputs['depth/image'].header.stamp.sec * 10**9
    client.spin(1.0)
    assert stamp not in client.received['points']


def _set_parameters(client: Client, **values: object) -> list:
    from rcl_interfaces.srv import SetParameters
    from rclpy.parameter import Parameter
    service = client.node.create_client(SetParameters, 'mtl_perception/set_parameters')
    assert service.wait_for_service(timeout_sec=30)
    future = service.call_async(SetParameters.Request(parameters=[
        Parameter(name, value=value).to_parameter_msg() for name, value in values.items()]))
    rclpy.spin_until_future_complete(client.node, future, timeout_sec=30)
    client.node.destroy_client(service)
    return future.result().results


def test_a_parameter_set_at_run_time_changes_the_next_cloud(client, image):
    results = _set_parameters(client, point_stride=4)
    assert results[0].successful, results[0].reason
    try:
        outputs = client.request(image_message(image), info_message(), outputs=('points',))
        assert (outputs['points'].height, outputs['points'].width) == (12, 16)
    finally:
        assert _set_parameters(client, point_stride=1)[0].successful
    refused = _set_parameters(client, device='cuda')
    assert not refused[0].successful
    # the service sets one parameter after the other: 50..80 m is fine, then 50..10 is not
    contradiction = _set_parameters(client, depth_min=50.0, depth_max=10.0)
    assert contradiction[0].successful and not contradiction[1].successful
    assert 'need depth_min < depth_max' in contradiction[1].reason
    assert _set_parameters(client, depth_min=0.0)[0].successful
    outputs = client.request(image_message(image), info_message(), outputs=('points',))
    assert (outputs['points'].height, outputs['points'].width) == (48, 64)


def test_sigterm_stops_the_node_cleanly(node_process, client):
    node_process.signal(signal.SIGTERM)
    code, output = node_process.finish()
    assert code == 0
    assert 'Traceback' not in output
    assert 'skipped a frame' in output
    ready = rf'ready: model .* on {node_process.backend} \({PROVIDERS[node_process.backend]}\)'
    assert re.search(ready + r', warmed up in [0-9]+ ms; subscribed to', output)


@pytest.mark.parametrize('model', ['missing.pt', 'corrupt.pt', 'flipped.pt'])
def test_an_unusable_model_stops_the_node_with_a_clear_message(
        ros_context, tmp_path, model, checkpoint_path):
    path = tmp_path / model
    if model == 'corrupt.pt':
        path.write_bytes(b'\x00' * 64)
    elif model == 'flipped.pt':  # bytes changed inside the tensors: only the CRCs tell
        data = bytearray(checkpoint_path.read_bytes())
        middle = len(data) // 2
        data[middle:middle + 64] = bytes(b ^ 0xFF for b in data[middle:middle + 64])
        path.write_bytes(bytes(data))
    code, output = _start_node(path).finish(timeout=120)
    assert code == 1
    assert 'cannot load model' in output and model in output
    assert 'Traceback' not in output
    if model == 'flipped.pt':
        assert 'damaged file: the checksum of' in output
