# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Teachers give their own pipeline's answer at each frame's size; bad teachers are one line."""

from __future__ import annotations

from mtl_perception.engines.torch_engine import Predictor
from mtl_perception.training.errors import TeacherError
from mtl_perception.training.teachers import load_depth_teacher, load_segmentation_teacher
from mtl_perception.training.teachers.base import DepthTeacher, SegmentationTeacher
import numpy as np
import pytest
from teacher_fixtures import (
    CITYSCAPES_NAMES, tiny_depth_anything, tiny_mask2former, tiny_segformer
)
import torch
from transformers import (
    AutoImageProcessor, AutoModelForDepthEstimation, AutoModelForSemanticSegmentation,
    AutoModelForUniversalSegmentation
)

CPU = torch.device('cpu')


@pytest.fixture(scope='module')
def teachers(tmp_path_factory):
    root = tmp_path_factory.mktemp('teachers')
    return {'segmentation': tiny_segformer(root / 'segformer'),
            'queries': tiny_mask2former(root / 'mask2former'),
            'metric': tiny_depth_anything(root / 'metric', metric=True),
            'relative': tiny_depth_anything(root / 'relative', metric=False)}


def _frames():
    rng = np.random.default_rng(3)
    return [rng.integers(0, 256, (50, 70, 3), dtype=np.uint8),
            rng.integers(0, 256, (37, 90, 3), dtype=np.uint8)]


@pytest.mark.parametrize(('family', 'auto_class'), [
    ('segmentation', AutoModelForSemanticSegmentation),
    ('queries', AutoModelForUniversalSegmentation)])
def test_segmentation_labels_are_the_teachers_own_post_processed_argmax(teachers, family,
                                                                        auto_class):
    teacher = load_segmentation_teacher(str(teachers[family]), CPU)
    assert isinstance(teacher, SegmentationTeacher)
    assert teacher.class_names == list(CITYSCAPES_NAMES)
    frames = _frames()
    results = teacher.segment(frames)
    processor = AutoImageProcessor.from_pretrained(teachers[family])
    model = auto_class.from_pretrained(teachers[family]).eval()
    with torch.no_grad():
        outputs = model(**processor(images=frames, return_tensors='pt'))
    expected = processor.post_process_semantic_segmentation(
        outputs, target_sizes=[frame.shape[:2] for frame in frames])
    for frame, result, reference in zip(frames, results, expected):
        assert result.ids.shape == frame.shape[:2] == result.confidence.shape
        np.testing.assert_array_equal(result.ids, reference.numpy())
        assert len(np.unique(result.ids)) > 1
        assert ((result.confidence >= 0) & (result.confidence <= 1)).all()


def test_metric_depth_is_the_teachers_own_post_processed_output(teachers):
    teacher = load_depth_teacher(str(teachers['metric']), CPU)
    assert isinstance(teacher, DepthTeacher) and teacher.metric
    frames = _frames()
    results = teacher.estimate(frames)
    processor = AutoImageProcessor.from_pretrained(teachers['metric'])
    model = AutoModelForDepthEstimation.from_pretrained(teachers['metric']).eval()
    for frame, result in zip(frames, results):
        with torch.no_grad():
            outputs = model(**processor(images=[frame], return_tensors='pt'))
        reference = processor.post_process_depth_estimation(
            outputs, target_sizes=[frame.shape[:2]])[0]['predicted_depth'].numpy()
        assert result.metric and result.values.shape == frame.shape[:2]
        np.testing.assert_allclose(result.values, reference, rtol=1e-5, atol=1e-5)
        assert np.ptp(result.values) > 1.0


def test_the_configuration_says_relative_unless_the_user_overrides_it(teachers):
    assert not load_depth_teacher(str(teachers['relative']), CPU).metric
    assert load_depth_teacher(str(teachers['relative']), CPU, metric=True).metric
    assert not load_depth_teacher(str(teachers['metric']), CPU, metric=False).metric


def test_a_checkpoint_of_ours_teaches_both_tasks_as_the_predictor_predicts(checkpoint_path):
    frames = _frames()
    teacher = load_segmentation_teacher(str(checkpoint_path), CPU)
    depth = load_depth_teacher(str(checkpoint_path), CPU)
    predictor = Predictor.from_checkpoint(checkpoint_path, device='cpu')
    for frame, labels, metres in zip(frames, teacher.segment(frames), depth.estimate(frames)):
        expected = predictor.predict(frame)
        np.testing.assert_array_equal(labels.ids, expected.labels)
        finite = np.isfinite(expected.depth)
        np.testing.assert_allclose(metres.values[finite], expected.depth[finite], rtol=1e-6)
        assert np.isnan(metres.values[~finite]).all()
    assert teacher.describe()['sha256'] and depth.metric


@pytest.mark.parametrize(('spec', 'message'), [
    ('absent_folder', r"--teacher-segmentation '.*absent_folder': no such model folder"),
    ('empty', r"--teacher-segmentation '.*empty': not a transformers model folder \(no "
              r'config.json'),
    ('depth_as_segmentation', r"--teacher-segmentation '.*metric': holds a "
                              r'DepthAnythingForDepthEstimation, not a segmentation model'),
])
def test_a_bad_teacher_is_one_line_naming_it(tmp_path, teachers, spec, message):
    (tmp_path / 'empty').mkdir()
    path = {'absent_folder': tmp_path / 'absent_folder', 'empty': tmp_path / 'empty',
            'depth_as_segmentation': teachers['metric']}[spec]
    with pytest.raises(TeacherError, match=message):
        load_segmentation_teacher(str(path), CPU)


def test_a_hub_id_while_offline_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    monkeypatch.setenv('HF_HOME', str(tmp_path))
    with pytest.raises(TeacherError, match=r"--teacher-depth 'nobody/no-such-model': cannot "
                                           r'load .* from the Hugging Face hub \(offline\?\)'):
        load_depth_teacher('nobody/no-such-model', CPU)
