# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``mtl_distill --source ...``: check everything, then distil, on one process or many.

Teachers, class map, sources, topics and anchors are all checked before the output folder is
touched, so a bad argument leaves nothing behind. Under ``torchrun`` every rank loads the
teachers on its own device, distils its share and waits for the others; rank 0 writes the
list and the manifest.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mtl_perception.holds import hold_if_asked
from mtl_perception.training.distillation.bags import BagSource, info_topic
from mtl_perception.training.distillation.output import DistillOutput
from mtl_perception.training.distillation.run import DepthOptions, Distiller
from mtl_perception.training.distillation.sources import Every, is_bag, open_source
from mtl_perception.training.distributed import init_distributed
from mtl_perception.training.errors import DistillError
from mtl_perception.training.teachers import load_depth_teacher, load_segmentation_teacher
from mtl_perception.training.teachers.class_maps import (
    build_class_map, check_student_classes, read_user_map
)

METRIC_KINDS = {'auto': None, 'metric': True, 'relative': False}


def _intrinsics(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        values = tuple(float(part) for part in text.split(','))
    except ValueError:
        values = ()
    if len(values) != 4 or min(values[:2]) <= 0:
        raise DistillError(f'--intrinsics {text!r}: give FX,FY,CX,CY in pixels (FX, FY > 0)')
    return values


def _options(args: argparse.Namespace) -> DepthOptions:
    low, high = args.depth_range
    if not 0 <= low < high:
        raise DistillError(f'--depth-range {low} {high}: need 0 <= MIN < MAX')
    if not 0 <= args.min_confidence <= 1:
        raise DistillError(f'--min-confidence {args.min_confidence}: a probability in 0..1')
    if args.camera_height is not None and args.camera_height <= 0:
        raise DistillError(f'--camera-height {args.camera_height}: metres above the ground, '
                           'more than 0')
    if args.batch_size < 1:
        raise DistillError(f'--batch-size {args.batch_size}: at least 1')
    return DepthOptions((low, high), args.min_confidence, args.camera_height,
                        args.camera_pitch, _intrinsics(args.intrinsics), args.max_fit_residual)


def _sources(args: argparse.Namespace) -> list[Any]:
    every = Every.parse(args.every)
    sources = []
    for path in args.source:
        if is_bag(path):
            sources.append(BagSource(path, every, args.image_topic, args.lidar_topic))
        else:
            sources.append(open_source(path, every, args.max_pixels))
    if (args.image_topic or args.lidar_topic) and not any(is_bag(p) for p in args.source):
        raise DistillError('--image-topic and --lidar-topic apply to rosbag2 sources; none '
                           'was given')
    return sources


def _check_anchors(sources: list[Any], options: DepthOptions, lidar: bool) -> None:
    """Refuse a relative depth teacher that no frame could be anchored for."""
    if lidar:
        return
    if options.camera_height is None:
        raise DistillError('the depth teacher predicts relative depth: give --camera-height '
                           '(ground-plane anchors) or --lidar-topic (LiDAR anchors), or '
                           '--teacher-depth-kind metric if it is metric')
    for source in sources:
        cameras = getattr(source, 'image_topics', None)
        if cameras is None and options.intrinsics is None:
            raise DistillError(f'{source.path}: ground-plane anchors need the camera '
                               'intrinsics: give --intrinsics FX,FY,CX,CY')
        for topic in cameras or []:
            if info_topic(topic) not in source.types and options.intrinsics is None:
                raise DistillError(f'{source.path}: {topic} has no {info_topic(topic)}; '
                                   'give --intrinsics FX,FY,CX,CY')


def distill_sources(args: argparse.Namespace, command: str) -> dict[str, Any] | None:
    """Run the source form of ``mtl_distill``; return the manifest (rank 0) or None.

    Raises:
        MtlPerceptionError: Any bad argument, teacher, class map or source, before anything
            is written.
    """
    missing = [flag for flag, value in (('--source', args.source),
                                        ('--teacher-segmentation', args.teacher_segmentation),
                                        ('--teacher-depth', args.teacher_depth),
                                        ('--classes', args.classes)) if not value]
    if missing:
        raise DistillError(f'missing {", ".join(missing)} (or use the dataset form: '
                           '--teacher CHECKPOINT --dataset YAML)')
    student = check_student_classes(args.classes)
    options = _options(args)
    sources = _sources(args)
    user_map = read_user_map(args.class_map) if args.class_map else None
    context = init_distributed(args.device)
    half = context.device.type == 'cuda'
    segmentation = load_segmentation_teacher(args.teacher_segmentation, context.device,
                                             half=half)
    class_map = build_class_map(segmentation.class_names, student, user_map,
                                str(args.class_map or '--classes'))
    depth = load_depth_teacher(args.teacher_depth, context.device, half=half,
                               metric=METRIC_KINDS[args.teacher_depth_kind])
    if not depth.metric:
        _check_anchors(sources, options, bool(args.lidar_topic))
    settings = {
        'sources': [str(Path(p).resolve()) for p in args.source],
        'image_topics': args.image_topic, 'lidar_topic': args.lidar_topic,
        'every': args.every, 'classes': student.name, 'class_names': list(student.names),
        'class_map': class_map.pairs, 'teacher_family': class_map.family,
        'teachers': {'segmentation': segmentation.describe(), 'depth': depth.describe()},
        'min_confidence': options.min_confidence, 'depth_range': list(options.depth_range),
        'camera_height': options.camera_height, 'camera_pitch': options.camera_pitch,
        'intrinsics': options.intrinsics, 'max_fit_residual': options.max_residual}
    hold_if_asked('teachers loaded')
    output = DistillOutput(args.output, settings)
    output.check()
    if context.is_main:
        output.prepare()
    context.barrier()
    distiller = Distiller(segmentation, depth, class_map, student, options, output)
    distiller.run(sources, context, batch_size=args.batch_size,
                  total=sum(source.estimated_frames() for source in sources),
                  progress=not args.no_progress and context.is_main)
    context.barrier()
    damage = [problem for source in sources for problem in source.damage]
    manifest = output.finish(command, damage) if context.is_main else None
    context.close()
    return manifest
