# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Metrics against hand-computed cases."""

from __future__ import annotations

import math

from mtl_perception.labels import IGNORE_ID
from mtl_perception.metrics import ConfusionMatrix, DepthMetrics
import pytest
import torch


def test_miou_and_pixel_accuracy_of_a_hand_counted_case():
    truth = torch.tensor([0, 0, 1, 1, 2, IGNORE_ID])
    prediction = torch.tensor([0, 1, 1, 1, 0, 2])
    matrix = ConfusionMatrix(3)
    matrix.update(truth, prediction)
    result = matrix.compute()
    # class 0: hits 1, union 3; class 1: hits 2, union 3; class 2: hits 0, union 1
    assert result['iou_per_class'] == pytest.approx([1 / 3, 2 / 3, 0.0])
    assert result['miou'] == pytest.approx(1 / 3)
    assert result['pixel_acc'] == pytest.approx(3 / 5)


def test_classes_absent_from_truth_and_prediction_do_not_count():
    matrix = ConfusionMatrix(4)
    matrix.update(torch.tensor([0, 1]), torch.tensor([0, 1]))
    result = matrix.compute()
    assert math.isnan(result['iou_per_class'][3])
    assert result['miou'] == 1.0


def test_depth_metrics_of_a_hand_computed_case():
    truth = torch.tensor([1.0, 2.0, 4.0, 0.0, float('nan')])
    prediction = torch.tensor([1.0, 3.0, 2.0, 9.0, 9.0])
    metrics = DepthMetrics()
    metrics.update(truth, prediction)
    result = metrics.compute()
    assert result['rmse'] == pytest.approx(math.sqrt((0 + 1 + 4) / 3))
    assert result['abs_rel'] == pytest.approx((0 + 0.5 + 0.5) / 3)
    assert result['sq_rel'] == pytest.approx((0 + 0.5 + 1.0) / 3)
    assert result['rmse_log'] == pytest.approx(
        math.sqrt((math.log(1.5) ** 2 + math.log(2) ** 2) / 3))
    assert result['delta1'] == pytest.approx(1 / 3)
    assert result['delta2'] == pytest.approx(2 / 3)
    assert result['delta3'] == pytest.approx(2 / 3)  # ratio 2 > 1.25 ** 3


def test_depth_metrics_without_valid_pixels_are_nan():
    metrics = DepthMetrics()
    metrics.update(torch.zeros(4), torch.ones(4))
    assert all(math.isnan(v) for v in metrics.compute().values())


def test_rep_117_markers_count_as_the_far_and_near_ends_of_the_range():
    truth = torch.tensor([10.0, 2.0, 5.0])
    marked = torch.tensor([math.inf, -math.inf, math.nan])
    clamped = torch.tensor([80.0, 0.5, 0.5])
    results = []
    for prediction in (marked, clamped):
        metrics = DepthMetrics(max_depth=80.0, min_depth=0.5)
        metrics.update(truth, prediction)
        results.append(metrics.compute())
    assert results[0] == pytest.approx(results[1])
    assert all(math.isfinite(value) for value in results[0].values())
