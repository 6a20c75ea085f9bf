"""Losses: berHu by hand, and masking per sample and per pixel."""

from __future__ import annotations

from mtl_perception.labels import IGNORE_ID
from mtl_perception.training.losses import berhu, MultiTaskLoss
import pytest
import torch


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
