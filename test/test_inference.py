# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Tests of the Predictor on the CPU through a real checkpoint."""

import copy

from conftest import make_metadata
from mtl_perception.errors import CheckpointError, InputImageError, ModelConfigError
from mtl_perception.inference import Predictor, resolve_device
import numpy as np
import pytest
import torch
from torch.nn import functional as F


@pytest.fixture(scope='module')
def predictor(request):
    return Predictor.from_checkpoint(request.getfixturevalue('checkpoint_path'), device='cpu')


def test_outputs_are_at_the_input_resolution_with_the_checkpoint_metadata(predictor,
                                                                          street_image):
    prediction = predictor.predict(street_image)
    assert prediction.labels.shape == (50, 70)
    assert prediction.labels.dtype == np.uint8
    assert prediction.depth.shape == (50, 70)
    assert prediction.depth.dtype == np.float32
    assert prediction.labels.max() < 8
    assert prediction.class_names == make_metadata().class_names
    np.testing.assert_array_equal(prediction.palette, make_metadata().palette_array)


def test_labels_are_the_argmax_of_bilinearly_upsampled_logits(predictor, small_model,
                                                              street_image):
    metadata = make_metadata()
    batch = torch.from_numpy(street_image).permute(2, 0, 1)[None].float()
    batch = F.interpolate(batch, size=metadata.input_size, mode='bilinear',
                          align_corners=False, antialias=True) / 255.0
    mean = torch.tensor(metadata.mean).view(1, 3, 1, 1)
    std = torch.tensor(metadata.std).view(1, 3, 1, 1)
    with torch.no_grad():
        outputs = small_model((batch - mean) / std)
    logits = F.interpolate(outputs['segmentation'], size=(50, 70), mode='bilinear',
                           align_corners=False)
    depth = F.interpolate(outputs['depth'], size=(50, 70), mode='bilinear',
                          align_corners=False)[0, 0]
    prediction = predictor.predict(street_image)
    agreement = (prediction.labels == logits.argmax(1)[0].numpy()).mean()
    assert agreement > 0.999
    expected = depth.numpy()
    expected[prediction.labels == prediction.class_names.index('sky')] = np.nan
    np.testing.assert_allclose(prediction.depth, expected, rtol=1e-4, atol=1e-5)


def test_postprocess_labels_break_ties_like_argmax(predictor):
    logits = torch.randn(1, 8, 6, 9)
    logits[:, 5] = logits[:, 2]
    logits[:, 7] = logits.amax(1)
    logits[0, :, 0, 0] = 1.0
    outputs = {'segmentation': logits, 'depth': torch.ones(1, 1, 6, 9)}
    labels = predictor.postprocess(outputs, (6, 9)).labels
    assert torch.equal(labels.long(), logits.argmax(1)[0])
    assert labels[0, 0] == 0


def test_bgr_input_gives_the_same_result_as_rgb(predictor, street_image):
    rgb = predictor.predict(street_image)
    bgr = predictor.predict(np.ascontiguousarray(street_image[..., ::-1]), bgr=True)
    np.testing.assert_array_equal(rgb.labels, bgr.labels)
    np.testing.assert_allclose(rgb.depth, bgr.depth, rtol=1e-6)


def test_depth_outside_the_checkpoint_range_is_marked_as_rep_117_says(small_model,
                                                                      street_image):
    reference = Predictor(small_model, make_metadata(), device='cpu').predict(street_image)
    finite = np.isfinite(reference.depth)
    low, high = np.percentile(reference.depth[finite], [25, 75])
    narrow = Predictor(small_model, make_metadata(depth_range=(float(low), float(high))),
                       device='cpu').predict(street_image)
    too_near, too_far = finite & (reference.depth < low), finite & (reference.depth > high)
    assert too_near.any() and too_far.any()
    assert np.isneginf(narrow.depth[too_near]).all()
    assert np.isposinf(narrow.depth[too_far]).all()
    inside = ~(too_near | too_far)
    np.testing.assert_array_equal(narrow.depth[inside], reference.depth[inside])


def test_input_size_can_be_overridden(small_model, street_image):
    predictor = Predictor(small_model, make_metadata(), device='cpu', input_size=(128, 160))
    assert predictor.input_size == (128, 160)
    assert predictor.predict(street_image).labels.shape == (50, 70)


def test_channels_last_layout_predicts_what_the_contiguous_layout_does(
        small_model, street_image):
    nhwc = Predictor(copy.deepcopy(small_model), make_metadata(), device='cpu')
    nchw = Predictor(copy.deepcopy(small_model), make_metadata(), device='cpu',
                     channels_last=False)
    weight = next(p for p in nhwc.model.parameters() if p.ndim == 4)
    assert weight.is_contiguous(memory_format=torch.channels_last)
    assert nhwc.preprocess(nhwc.upload(street_image)).is_contiguous(
        memory_format=torch.channels_last)
    fast, reference = nhwc.predict(street_image), nchw.predict(street_image)
    assert (fast.labels == reference.labels).mean() > 0.999
    np.testing.assert_allclose(fast.depth, reference.depth, rtol=1e-4)


def test_a_compiled_network_predicts_what_the_eager_one_does(small_model, street_image):
    compiled = Predictor(copy.deepcopy(small_model), make_metadata(), device='cpu',
                         compile_model=True)
    eager = Predictor(copy.deepcopy(small_model), make_metadata(), device='cpu')
    assert compiled.network is not compiled.model
    fast, reference = compiled.predict(street_image), eager.predict(street_image)
    assert (fast.labels == reference.labels).mean() > 0.999
    np.testing.assert_allclose(fast.depth, reference.depth, rtol=1e-3)


def test_infer_keeps_results_on_the_device(predictor, street_image):
    result = predictor.infer(street_image)
    assert result.labels.device.type == 'cpu'
    assert result.labels.dtype == torch.uint8
    assert result.depth.dtype == torch.float32


@pytest.mark.parametrize(('image', 'message'), [
    (np.zeros((10, 10, 3), dtype=np.float32), 'expected a uint8 image, got dtype float32'),
    (np.zeros((10, 10), dtype=np.uint8), r'expected an HxWx3 image, got shape \(10, 10\)'),
    (np.zeros((10, 10, 4), dtype=np.uint8), r'got shape \(10, 10, 4\)'),
    (np.zeros((0, 10, 3), dtype=np.uint8), 'image is empty'),
    ([[1, 2, 3]], 'expected a numpy array, got list'),
])
def test_bad_images_are_rejected_with_what_is_wrong(predictor, image, message):
    with pytest.raises(InputImageError, match=message):
        predictor.predict(image)


def test_half_precision_on_the_cpu_is_refused(small_model):
    with pytest.raises(ModelConfigError, match='half precision .* needs a CUDA device'):
        Predictor(small_model, make_metadata(), device='cpu', half=True)


def test_cpu_predictor_defaults_to_float32(predictor):
    assert predictor.half is False
    assert next(predictor.model.parameters()).dtype == torch.float32


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the message shown without CUDA')
def test_cuda_request_without_cuda_is_explained():
    with pytest.raises(ModelConfigError, match="device 'cuda' requested but CUDA is not "
                                               'available'):
        resolve_device('cuda')
    assert resolve_device('auto').type == 'cpu'


def test_unknown_device_name_is_explained():
    with pytest.raises(ModelConfigError, match="unknown device 'gpu0'"):
        resolve_device('gpu0')


def test_from_checkpoint_propagates_checkpoint_errors(tmp_path):
    with pytest.raises(CheckpointError, match='checkpoint file not found'):
        Predictor.from_checkpoint(tmp_path / 'none.pt', device='cpu')


def test_pixels_classified_as_sky_have_no_depth(small_model, street_image):
    predictor = Predictor(small_model, make_metadata(), device='cpu')
    result = predictor.predict(street_image)
    sky = result.class_names.index('sky')
    assert (np.isnan(result.depth[result.labels == sky])).all()
    assert np.isfinite(result.depth[result.labels != sky]).any()


def test_a_three_task_model_predicts_unit_normals_where_depth_is_valid(
        normals_checkpoint_path, street_image):
    predictor = Predictor.from_checkpoint(normals_checkpoint_path, device='cpu',
                                          channels_last=False)
    assert predictor.has_normals
    prediction = predictor.predict(street_image)
    assert prediction.normals.shape == (50, 70, 3)
    assert prediction.normals.dtype == np.float32
    valid = np.isfinite(prediction.depth)
    assert valid.any()
    np.testing.assert_allclose(np.linalg.norm(prediction.normals[valid], axis=1), 1.0,
                               rtol=1e-5)
    assert np.isnan(prediction.normals[~valid]).all()
    batch = predictor.preprocess(torch.from_numpy(street_image))
    with torch.no_grad():
        raw = predictor.model(batch)['normals']
    expected = F.normalize(F.interpolate(raw, size=(50, 70), mode='bilinear'), dim=1)[0]
    np.testing.assert_allclose(prediction.normals[valid],
                               expected.permute(1, 2, 0).numpy()[valid], atol=1e-5)


def test_a_two_task_model_has_no_normals(predictor, street_image):
    assert not predictor.has_normals
    assert predictor.predict(street_image).normals is None
