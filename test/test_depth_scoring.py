# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Depth scoring over a drive and LiDAR projection, on hand-made numbers."""

from __future__ import annotations

from mtl_perception.depth_scoring import crop_mask, DriveScorer
from mtl_perception.geometry import Intrinsics
from mtl_perception.lidar_projection import project_nearest
import numpy as np
import pytest


def test_median_scaling_is_a_second_row_and_undoes_a_global_scale_error():
    scorer = DriveScorer()
    truth = np.full((4, 6), np.nan, np.float32)
    truth[1:3, 1:5] = np.arange(8, dtype=np.float32).reshape(2, 4) + 5.0
    score = scorer.add(7, truth, truth * 1.5)
    assert score.metrics['abs_rel'] == pytest.approx(0.5)
    assert score.scaled['abs_rel'] == pytest.approx(0.0, abs=1e-12)
    assert score.scale == pytest.approx(1 / 1.5) and score.pixels == 8
    summary = scorer.summary()
    assert summary['metrics']['abs_rel'] == pytest.approx(0.5)
    assert summary['median_scaled']['delta1'] == 1.0
    assert summary['median_scale'] == {'median': pytest.approx(1 / 1.5), 'std_over_median': 0.0}


def test_pooled_and_per_frame_means_differ_when_frames_have_different_pixel_counts():
    scorer = DriveScorer()
    many = np.full((10, 10), 10.0, np.float32)
    few = np.full((10, 10), np.nan, np.float32)
    few[0, 0] = 10.0
    scorer.add(1, many, np.full((10, 10), 11.0))  # 100 pixels off by 10 %
    scorer.add(2, few, np.full((10, 10), 15.0))  # 1 pixel off by 50 %
    summary = scorer.summary()
    assert summary['metrics']['abs_rel'] == pytest.approx((100 * 0.1 + 0.5) / 101)
    assert summary['metrics_frame_mean']['abs_rel'] == pytest.approx(0.3)


def test_frames_without_a_measurement_in_range_are_not_counted():
    scorer = DriveScorer(max_depth=80.0)
    truth = np.full((3, 3), 95.0, np.float32)
    assert scorer.add(1, truth, truth) is None and scorer.summary()['frames'] == 0


def test_crops_keep_the_published_shares_and_unknown_ones_are_refused():
    mask = crop_mask(375, 1242, 'garg')
    rows, cols = np.nonzero(mask)
    assert (rows.min(), rows.max() + 1, cols.min(), cols.max() + 1) == (153, 371, 44, 1197)
    assert crop_mask(4, 4, 'none').all()
    with pytest.raises(ValueError, match='crop must be one of none, garg, eigen'):
        DriveScorer(crop='kitti')


def test_a_return_lands_on_the_nearest_pixel_centre_and_the_nearest_return_wins():
    intrinsics = Intrinsics(10.0, 10.0, 2.0, 1.0, 5, 3)
    points = np.array([[0.04, 0.0, 1.0],   # u = 2.4 -> column 2
                       [0.06, 0.0, 1.0],   # u = 2.6 -> column 3
                       [0.0, 0.0, 4.0], [0.0, 0.0, 2.0],  # both on (1, 2): 2 m wins
                       [0.0, 0.0, -1.0], [9.0, 0.0, 1.0]])  # behind, outside
    depth = project_nearest(points, intrinsics)
    found = {(int(r), int(c)): float(depth[r, c]) for r, c in zip(*np.nonzero(np.isfinite(depth)))}
    assert found == {(1, 2): 1.0, (1, 3): 1.0}
    depth = project_nearest(points[2:4], intrinsics)
    assert depth[1, 2] == 2.0
