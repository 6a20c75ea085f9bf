# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Losses: berHu by hand, and masking per sample and per pixel."""

from __future__ import annotations

from mtl_perception.labels import IGNORE_ID
from mtl_perception.training.datasets.synthetic import SyntheticDataset
from mtl_perception.training.errors import TrainingConfigError
from mtl_perception.training.losses import berhu, MultiTaskLoss
from mtl_perception.training.segmentation_losses import (
    balanced_weights, build_segmentation_criterion, class_frequencies, HardPixelCrossEntropy
)
import numpy as np
import pytest
import torch
from torch.nn import functional as F


def test_berhu_is_l1_below_the_threshold_and_scaled_l2_above():
    prediction = torch.tensor([1.1, 3.0])
    target = torch.tensor([1.0, 2.0])
    # c = 0.2 * 1.0; residuals 0.1 (L1) and 1.0 -> (1 + 0.04) / 0.4 = 2.6
    assert float(berhu(prediction, target)) == pytest.approx((0.1 + 2.6) / 2)


def _value(tensor):
    return float(tensor.detach())


def _batch(has_labels, has_depth):
    torch.manual_seed(0)
    labels = torch.randint(0, 3, (2, 8, 8))
    labels[:, 0] = IGNORE_ID
    depth = torch.rand(2, 8, 8) * 10 + 1
    depth[:, :, 0] = 0
    return {'labels': labels, 'depth': depth, 'has_labels': torch.tensor(has_labels),
            'has_depth': torch.tensor(has_depth)}


def _outputs():
    torch.manual_seed(1)
    return {'segmentation': torch.randn(2, 3, 2, 2, requires_grad=True),
            'depth': torch.rand(2, 1, 2, 2, requires_grad=True) * 5}


def test_terms_are_named_and_total_is_their_weighted_sum():
    terms = {k: float(v.detach()) for k, v in MultiTaskLoss(2.0, 0.5)(
        _outputs(), _batch([True, True], [True, True])).items()}
    assert set(terms) == {'segmentation', 'depth', 'total'}
    assert terms['total'] == pytest.approx(2.0 * terms['segmentation'] + 0.5 * terms['depth'])


def test_a_sample_without_depth_contributes_nothing_to_the_depth_term():
    loss = MultiTaskLoss()
    batch = _batch([True, True], [True, False])
    reference = loss(_outputs(), batch)['depth']
    batch['depth'][1] = 1000.0
    assert _value(loss(_outputs(), batch)['depth']) == pytest.approx(_value(reference))


def test_a_sample_without_labels_contributes_nothing_to_the_segmentation_term():
    loss = MultiTaskLoss()
    batch = _batch([False, True], [True, True])
    reference = loss(_outputs(), batch)['segmentation']
    batch['labels'][0] = 0
    assert _value(loss(_outputs(), batch)['segmentation']) == pytest.approx(
        _value(reference))


def test_ignored_pixels_and_invalid_depth_are_left_out():
    loss = MultiTaskLoss()
    batch = _batch([True, True], [True, True])
    outputs = _outputs()
    reference = loss(outputs, batch)
    batch['labels'][:, 0] = IGNORE_ID
    batch['depth'][:, :, 0] = 0
    again = loss(outputs, batch)
    assert _value(again['segmentation']) == pytest.approx(_value(reference['segmentation']))
    assert _value(again['depth']) == pytest.approx(_value(reference['depth']))


def test_a_batch_with_nothing_to_learn_gives_zero_loss_and_zero_gradients():
    outputs = _outputs()
    terms = MultiTaskLoss()(outputs, _batch([False, False], [False, False]))
    assert _value(terms['total']) == 0.0
    terms['total'].backward()
    assert float(outputs['segmentation'].grad.abs().sum()) == 0.0


def _normals_batch(has_normals):
    batch = _batch([True, True], [True, True])
    normals = torch.zeros(2, 3, 8, 8)
    normals[:, 2] = -1.0  # surfaces facing the camera
    normals[:, :, 0] = 0.0  # first row: no ground truth
    batch.update(normals=normals, has_normals=torch.tensor(has_normals))
    return batch


def _normals_outputs(z: float):
    outputs = _outputs()
    normals = torch.zeros(2, 3, 2, 2)
    normals[:, 2] = z
    outputs['normals'] = normals.requires_grad_()
    return outputs


@pytest.mark.parametrize(('z', 'expected'), [(-1.0, 0.0), (1.0, 2.0)])
def test_the_normals_term_is_one_minus_cosine_on_valid_pixels(z, expected):
    terms = MultiTaskLoss(normals_weight=0.5)(_normals_outputs(z), _normals_batch([True, True]))
    assert _value(terms['normals']) == pytest.approx(expected, abs=1e-6)
    rest = _value(terms['segmentation']) + _value(terms['depth'])
    assert _value(terms['total']) == pytest.approx(rest + 0.5 * expected, rel=1e-6)


def test_samples_without_normals_are_masked_and_still_give_a_gradient():
    outputs = _normals_outputs(1.0)
    terms = MultiTaskLoss()(outputs, _normals_batch([False, False]))
    assert _value(terms['normals']) == 0.0
    terms['normals'].backward()  # defined (DDP needs every output in the graph) but zero
    assert torch.equal(outputs['normals'].grad, torch.zeros_like(outputs['normals']))
    half = MultiTaskLoss()(_normals_outputs(1.0), _normals_batch([True, False]))
    assert _value(half['normals']) == pytest.approx(2.0)


def test_a_two_task_network_has_no_normals_term():
    assert 'normals' not in MultiTaskLoss()(_outputs(), _batch([True, True], [True, True]))


def test_hard_pixel_mining_averages_only_the_misjudged_pixels():
    labels = torch.tensor([[[0, 0, 1, 1]]])
    logits = torch.zeros(1, 2, 1, 4)
    logits[0, 0, 0, :2] = 10.0          # two easy pixels, confidently right
    logits[0, 0, 0, 2:] = 1.0           # two hard ones: class 0 favoured, truth is 1
    criterion = HardPixelCrossEntropy(threshold=0.7, min_fraction=0.1)
    hard = F.cross_entropy(logits, labels, reduction='none')[0, 0, 2:]
    assert float(criterion(logits, labels)) == pytest.approx(float(hard.mean()))
    assert float(criterion(logits, labels)) > float(F.cross_entropy(logits, labels))


def test_hard_pixel_mining_keeps_the_hardest_share_when_every_pixel_is_easy():
    labels = torch.tensor([[[0, 0, 0, 0]]])
    logits = torch.zeros(1, 2, 1, 4)
    logits[0, 0, 0] = torch.tensor([9.0, 8.0, 7.0, 6.0])
    value = HardPixelCrossEntropy(threshold=0.7, min_fraction=0.5)(logits, labels)
    per_pixel = F.cross_entropy(logits, labels, reduction='none')[0, 0]
    assert float(value) == pytest.approx(float(per_pixel[2:].mean()))
    assert float(value) > 0


def test_balanced_weights_favour_rare_classes_within_a_bound():
    weights = balanced_weights(torch.tensor([0.6, 0.39, 0.01, 0.0]))
    assert weights[0] < weights[1] < weights[2] < weights[3]
    assert weights[3] / weights[0] < 60


def test_class_frequencies_count_labelled_pixels_of_the_training_set():
    dataset = SyntheticDataset(range(3), size=(16, 48))
    frequencies = class_frequencies(dataset, 8, progress=False)
    labels = torch.cat([dataset[i]['labels'].reshape(-1).long() for i in range(3)])
    counts = torch.bincount(labels, minlength=8).double().numpy()
    np.testing.assert_allclose(frequencies.numpy(), counts / labels.numel())


def test_the_configured_criterion_is_built_by_name_and_typos_are_refused():
    assert isinstance(build_segmentation_criterion('ohem')[0], HardPixelCrossEntropy)
    criterion, details = build_segmentation_criterion(
        'balanced', SyntheticDataset(range(2), size=(16, 48)), 8, progress=False)
    assert len(details['class_weights']) == 8
    with pytest.raises(TrainingConfigError, match="unknown train.segmentation_loss 'focal'"):
        build_segmentation_criterion('focal')
