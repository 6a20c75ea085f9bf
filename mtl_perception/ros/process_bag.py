# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``mtl_process_bag``: run the network over a bag offline and write the node's outputs.

No DDS: images are read with ``rosbags``, decoded with rclpy's serialisation and the node's
conversions, predicted with the Predictor, and the four outputs are built by the node's own
:class:`OutputBuilder`, so the bag holds byte for byte what ``perception_node`` would publish
(same topics, stamps and frame ids). With depth ground truth in the bag, depth metrics are
printed and saved; with ``--lidar-topic``, depth is also scored against the bag's LiDAR
(:mod:`.lidar_scoring`): ``lidar_depth.csv`` per frame, ``lidar_depth.png`` over time and a
``lidar`` section in ``metrics.json``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
import contextlib
import json
import logging
from pathlib import Path
import sys

from mtl_perception.camera_model import frame_intrinsics
from mtl_perception.cli import positive_metres, usage_error
from mtl_perception.default_model import default_model_path
from mtl_perception.depth_score_plot import plot_drive
from mtl_perception.depth_scoring import CROPS, DriveScorer
from mtl_perception.engines import backend_choices, backend_help
from mtl_perception.engines.contract import Engine
from mtl_perception.engines.loading import load_engine
from mtl_perception.errors import ExportCacheError, MtlPerceptionError
from mtl_perception.formats.ros_images import frame_to_rgb, image_to_array, MAX_FRAME_PIXELS
from mtl_perception.geometry import Intrinsics
from mtl_perception.holds import hold_if_asked
from mtl_perception.metrics import DepthMetrics
from mtl_perception.ros import NODE_NAME
from mtl_perception.ros.bag_reading import readable_messages
from mtl_perception.ros.errors import NothingProducedError, ProcessBagError
from mtl_perception.ros.health import cause_of, ProblemLog
from mtl_perception.ros.lidar_scoring import LidarScoring
from mtl_perception.ros.outputs import OutputBuilder
from mtl_perception.safe_output import json_safe, staged_folder
import numpy as np
from rclpy.serialization import deserialize_message, serialize_message
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.typesys import get_typestore, Stores
from sensor_msgs.msg import CameraInfo, Image
import torch
from tqdm import tqdm

LOGGER = logging.getLogger(__name__)
TYPESTORE = get_typestore(Stores.ROS2_HUMBLE)
OUTPUT_TOPICS = {'segmentation': ('segmentation', 'sensor_msgs/msg/Image'),
                 'colour': ('segmentation/color', 'sensor_msgs/msg/Image'),
                 'depth': ('depth/image', 'sensor_msgs/msg/Image'),
                 'points': ('points', 'sensor_msgs/msg/PointCloud2')}


def _choose_topics(reader: Reader, image_topic: str | None) -> tuple[str, str, str]:
    images = [c.topic for c in reader.connections if c.msgtype == 'sensor_msgs/msg/Image']
    if image_topic is None:
        candidates = [t for t in images if t.endswith('image_raw')]
        if not candidates:
            raise ProcessBagError(f'no */image_raw topic in the bag; pass --image-topic '
                                  f'(Image topics: {images})')
        image_topic = candidates[0]
    elif image_topic not in images:
        raise ProcessBagError(f'{image_topic} is not a sensor_msgs/Image topic of the bag '
                              f'(Image topics: {images})')
    base = image_topic.rsplit('/', 1)[0]
    return image_topic, f'{base}/camera_info', f'{base}/depth/ground_truth'


def process_bag(input_bag: Path, output_bag: Path, predictor: Engine, *,
                image_topic: str | None = None, point_stride: int = 2,
                lidar_topic: str | None = None, scorer: DriveScorer | None = None,
                progress: bool = True) -> dict[str, object]:
    """Predict every image of ``image_topic`` and write the outputs to ``output_bag``.

    The output bag (with ``metrics.json`` when the bag has depth ground truth) is written
    beside ``output_bag`` and renamed into place when complete; any failure or kill leaves
    nothing. Damage inside the input does not stop processing: a message that does not
    decode is skipped, a damaged stretch of the container ends the reading there, and both
    are listed in ``damaged`` with their position, as are messages that the bag's metadata
    lists but that could not be read.

    Frames whose CameraInfo is missing or does not fit them (another aspect ratio) get no
    points; the reason is logged once and ``frames_with_points`` counts the others.

    With ``lidar_topic``, each frame with intrinsics is also scored against the LiDAR scan
    nearest in time by ``scorer`` (default: 1e-3..80 m, no crop).

    Returns:
        ``frames`` processed, ``frames_with_points``, ``skipped`` bad frames, ``damaged``
        (descriptions), the topics, depth ``metrics`` when the bag has ground truth
        (else an empty dict), and ``lidar`` (the LiDAR scores) with ``lidar_topic``.

    Raises:
        ProcessBagError: The input cannot be opened as a bag, lacks the image topic, or the
            output exists.
        NothingProducedError: No image could be processed; nothing is written.
    """
    if output_bag.exists():
        raise ProcessBagError(f'output bag {output_bag} already exists; choose a new path')
    builder = OutputBuilder(predictor.palette, predictor.device)
    metrics = DepthMetrics(predictor.device, max_depth=predictor.metadata.depth_range[1])
    frames = skipped = matched = with_points = 0
    problems = ProblemLog(LOGGER)
    damaged: list[str] = []
    infos: dict[str, CameraInfo] = {}
    pending: dict[str, dict[int, torch.Tensor]] = {'truth': {}, 'predicted': {}}

    def pair(kind: str, key: int, depth: torch.Tensor) -> None:
        """Score a frame as soon as both its prediction and its ground truth are read."""
        nonlocal matched
        other = pending['predicted' if kind == 'truth' else 'truth'].pop(key, None)
        if other is None:
            pending[kind][key] = depth
            return
        truth, prediction = (depth, other) if kind == 'truth' else (other, depth)
        metrics.update(truth.to(predictor.device), prediction)
        matched += 1

    with _open(input_bag) as reader, staged_folder(output_bag) as staging:
        with Writer(staging, version=8, storage_plugin=StoragePlugin.MCAP) as writer:
            image_topic, info_topic, truth_topic = _choose_topics(reader, image_topic)
            outputs = {kind: writer.add_connection(f'/{NODE_NAME}/{name}', msgtype,
                                                   typestore=TYPESTORE)
                       for kind, (name, msgtype) in OUTPUT_TOPICS.items()}
            lidar = (LidarScoring(reader, lidar_topic, scorer or DriveScorer())
                     if lidar_topic else None)
            wanted = [c for c in reader.connections
                      if c.topic in (image_topic, info_topic, truth_topic, lidar_topic)]
            has_truth = any(c.topic == truth_topic for c in wanted)
            total = sum(c.msgcount for c in wanted if c.topic == image_topic)
            bar = tqdm(total=total, unit='frame', desc='processing', disable=not progress)
            read = 0
            for connection, stamp, raw in readable_messages(reader, wanted, damaged):
                read += 1
                if lidar is not None and connection.topic == lidar_topic:
                    try:
                        lidar.add_scan(bytes(raw))
                    except Exception as error:  # noqa: B902  rosbags' decoders raise many types
                        damaged.append(f'scan #{read} on {lidar_topic} at {stamp} ns does not '
                                       f'decode ({type(error).__name__})')
                    continue
                kind = CameraInfo if connection.topic == info_topic else Image
                try:
                    message = deserialize_message(bytes(raw), kind)
                except Exception as error:  # noqa: B902  rclpy raises RMWError and others
                    damaged.append(f'message #{read} on {connection.topic} at {stamp} ns does '
                                   f'not decode ({type(error).__name__})')
                    continue
                if kind is CameraInfo:
                    infos[message.header.frame_id] = message
                    continue
                key = message.header.stamp.sec * 10**9 + message.header.stamp.nanosec
                if connection.topic == truth_topic:
                    pair('truth', key, torch.from_numpy(image_to_array(message).copy()))
                    continue
                bar.update()
                try:
                    rgb = frame_to_rgb(message, MAX_FRAME_PIXELS)
                    prediction = predictor.infer(rgb)
                except MtlPerceptionError as error:
                    skipped += 1
                    problems.report(error, f'skipped the image at {stamp} ns')
                    continue
                header = message.header
                built = {'segmentation': builder.segmentation(prediction, header),
                         'colour': builder.colour(prediction, header),
                         'depth': builder.depth(prediction, header)}
                intrinsics = _intrinsics(infos.get(header.frame_id), rgb, info_topic, problems)
                if intrinsics is not None:
                    built['points'] = builder.points(prediction, intrinsics, point_stride,
                                                     header)
                    with_points += 1
                    if lidar is not None:
                        lidar.add_frame(key, header.frame_id, prediction.depth.cpu().numpy(),
                                        intrinsics)
                elif lidar is not None:
                    lidar.skip_frame()
                for output_kind, output in built.items():
                    writer.write(outputs[output_kind], stamp, serialize_message(output))
                if has_truth:
                    pair('predicted', key, prediction.depth)
                frames += 1
                hold_if_asked(f'frame {frames}')
            bar.close()
            if frames == 0:
                raise NothingProducedError(
                    f'nothing written: none of the {total} image(s) on {image_topic} could be '
                    f'processed ({skipped} skipped, reasons above)')
            if lidar is not None:
                lidar.finish()
            listed = sum(c.msgcount for c in wanted)
            if read < listed:
                damaged.append(f'{listed - read} message(s) listed in the bag metadata could '
                               'not be read')
        result = {'frames': frames, 'frames_with_points': with_points, 'skipped': skipped,
                  'damaged': damaged,
                  'image_topic': image_topic, 'ground_truth_frames': matched,
                  'metrics': metrics.compute() if matched else {}}
        if lidar is not None:
            result['lidar'] = lidar.summary()
            if lidar.scorer.frames:
                lidar.scorer.write_csv(staging / 'lidar_depth.csv')
                plot_drive(lidar.scorer, staging / 'lidar_depth.png',
                           f'{image_topic} against {lidar_topic}')
        if result['metrics'] or lidar is not None:
            (staging / 'metrics.json').write_text(
                json.dumps(json_safe(result), indent=2, allow_nan=False) + '\n')
    return result


def _intrinsics(info: CameraInfo | None, rgb: np.ndarray, info_topic: str,
                problems: ProblemLog) -> Intrinsics | None:
    """Return the frame's intrinsics, or None (no points) with the reason logged once."""
    if info is None:
        problems.report_text('no-camera-info', f'no CameraInfo on {info_topic} for this '
                             "image's frame id: its frames get no points")
        return None
    try:
        return frame_intrinsics(info, (), rgb.shape[1], rgb.shape[0])
    except MtlPerceptionError as error:
        problems.report_text(cause_of(error), f'no points for frames like this one: {error}')
        return None


@contextlib.contextmanager
def _open(bag: Path) -> Iterator[Reader]:
    """Open a bag for reading; a missing or unreadable one is one clear error."""
    try:
        reader = Reader(bag)
        reader.open()
    except Exception as error:  # noqa: B902  rosbags raises ReaderError and decoder errors
        raise ProcessBagError(f'{bag}: not a readable bag: {error}') from None
    try:
        yield reader
    finally:
        reader.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='mtl_process_bag', description=(
            'Run the network over every image of a bag, offline (no DDS), and write the '
            "node's four outputs (/mtl_perception/segmentation, segmentation/color, depth, "
            'points; same stamps and frame ids) into a new mcap bag. With depth ground truth '
            '(<camera>/depth/ground_truth) in the bag, depth metrics are printed and saved '
            'as OUT_BAG/metrics.json. With --lidar-topic, depth is also scored against the '
            "bag's LiDAR (through its /tf_static and CameraInfo): OUT_BAG/lidar_depth.csv per "
            'frame, lidar_depth.png over time and a "lidar" section in metrics.json.'))
    parser.add_argument('input', type=Path, metavar='IN_BAG')
    parser.add_argument('output', type=Path, metavar='OUT_BAG')
    parser.add_argument('--model', type=Path,
                        help='checkpoint (.pt) or exported graph (.onnx) (default: the '
                             'installed default weights)')
    parser.add_argument('--image-topic', help='image topic (default: the first */image_raw)')
    parser.add_argument('--lidar-topic', metavar='TOPIC',
                        help='PointCloud2 topic to score depth against (e.g. '
                             '/kitti/velo/pointcloud)')
    parser.add_argument('--crop', choices=tuple(CROPS), default='none',
                        help='image crop for the LiDAR scores: none, garg or eigen '
                             '(default: none)')
    parser.add_argument('--max-depth', type=positive_metres, default=80.0,
                        help='farthest LiDAR depth scored, metres (default: 80)')
    parser.add_argument('--device', default='auto', help='auto, cpu, cuda or cuda:N')
    parser.add_argument('--backend', choices=backend_choices(), default='auto',
                        help=backend_help())
    parser.add_argument('--point-stride', type=_stride, default=2,
                        help='keep every N-th pixel of every N-th row in the cloud (1..64)')
    parser.add_argument('--skip-damaged', action='store_true',
                        help='accept an output that lacks messages damaged in the input '
                             '(exit 0 with a warning instead of 1)')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    return parser


def _stride(text: str) -> int:
    """Parse a point stride of 1..64."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a whole number') from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f'{text!r}: must be 1..64')
    return value


def main(argv: list[str] | None = None) -> int:
    """Entry point; 0 ok, 1 output incomplete or nothing produced, 2 bad arguments or input."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    try:
        predictor = load_engine(args.model or default_model_path(), backend=args.backend,
                                device=args.device)
        result = process_bag(args.input, args.output, predictor, image_topic=args.image_topic,
                             point_stride=args.point_stride, lidar_topic=args.lidar_topic,
                             scorer=DriveScorer(max_depth=args.max_depth, crop=args.crop),
                             progress=not args.no_progress)
    except (NothingProducedError, ExportCacheError) as error:
        sys.stderr.write(f'mtl_process_bag: error: {error}\n')
        return 1
    except (MtlPerceptionError, OSError) as error:
        return usage_error('mtl_process_bag', error)
    LOGGER.info('%s', json.dumps(result))
    hold_if_asked('written')
    damage = result['damaged']
    if damage and not args.skip_damaged:
        sys.stderr.write(f'mtl_process_bag: error: output incomplete, the input is damaged: '
                         f'{len(damage)} problem(s): {"; ".join(damage)[:600]} (pass '
                         '--skip-damaged to accept the output as it is)\n')
        return 1
    if damage:
        LOGGER.warning('input damaged, output lacks: %s', '; '.join(damage))
    return 0
