# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Newest-frame mailbox, frame statistics and the choice of intrinsics per frame."""

from __future__ import annotations

import threading

from mtl_perception.camera_model import frame_intrinsics
from mtl_perception.errors import ConversionError
from mtl_perception.ros.frame_slot import LatestFrames
from mtl_perception.ros.stats import FrameStats
import pytest
from sensor_msgs.msg import CameraInfo


def test_the_mailbox_hands_out_the_newest_item_of_each_camera_and_counts_the_dropped():
    frames = LatestFrames()
    for item in range(5):
        frames.put('front', item)
    frames.put('left', 'a')
    assert frames.take(timeout=0) == {'front': 4, 'left': 'a'}
    assert (frames.received('front'), frames.dropped('front')) == (5, 4)
    assert (frames.received('left'), frames.dropped('left')) == (1, 0)
    assert (frames.received('right'), frames.dropped('right')) == (0, 0)
    assert frames.take(timeout=0.01) == {}
    frames.put('left', 'b')  # one camera alone is handed out without waiting for the others
    assert frames.take(timeout=0) == {'left': 'b'}


def test_a_gathering_take_returns_once_every_camera_that_sends_has_a_frame():
    frames = LatestFrames()
    frames.put('front', 0)
    frames.put('left', 0)
    assert frames.take(timeout=0) == {'front': 0, 'left': 0}
    frames.put('front', 1)
    results = []
    worker = threading.Thread(target=lambda: results.append(frames.take(timeout=0, gather=60)))
    worker.start()
    frames.put('left', 1)  # ends the wait: both cameras that send have a frame
    worker.join(timeout=30)
    assert not worker.is_alive() and results == [{'front': 1, 'left': 1}]
    frames.put('front', 2)  # alone at once: a gather of 0 never waits ...
    assert frames.take(timeout=0) == {'front': 2}
    frames.put('front', 3)  # ... and a silent camera is waited for no longer than gather
    assert frames.take(timeout=0, gather=0.01) == {'front': 3}
    frames.discard()  # after a discard only cameras that send again count
    frames.put('front', 4)
    worker = threading.Thread(target=lambda: results.append(frames.take(timeout=0, gather=60)))
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive() and results[-1] == {'front': 4}


def test_closing_the_mailbox_wakes_a_waiting_worker():
    frames = LatestFrames()
    results = []
    worker = threading.Thread(target=lambda: results.append(frames.take(timeout=10)))
    worker.start()
    frames.close()
    worker.join(timeout=2)
    assert not worker.is_alive() and results == [{}] and frames.closed
    frames.put('front', 1)
    assert frames.take(timeout=0) == {}


def test_stats_give_rate_and_latency_percentiles():
    stats = FrameStats()
    for index in range(11):
        stats.record(0.010 + index * 0.001, now=100.0 + index * 0.1)
    assert stats.rate(now=101.0) == pytest.approx(11 / 1.0)
    percentiles = stats.latency_percentiles()
    assert percentiles['p50'] == pytest.approx(15.0)
    assert percentiles['max'] == pytest.approx(20.0)


def test_stats_give_the_median_time_of_each_stage():
    stats = FrameStats()
    assert stats.stage_medians() == {}
    for index in range(5):
        stats.record(0.05, stages={'inference': 0.030 + index * 0.001, 'outputs': 0.002})
    assert stats.stage_medians() == pytest.approx({'inference': 32.0, 'outputs': 2.0})


def _info(width, height, k=(100.0, 0, 50.0, 0, 100.0, 40.0, 0, 0, 1)):
    return CameraInfo(width=width, height=height, k=list(k))


def test_camera_info_of_the_image_size_is_used_as_is():
    intrinsics = frame_intrinsics(_info(100, 80), (), 100, 80)
    assert (intrinsics.fx, intrinsics.cx, intrinsics.cy) == (100.0, 50.0, 40.0)


def test_camera_info_of_a_resized_stream_is_rescaled():
    intrinsics = frame_intrinsics(_info(100, 80), (), 50, 40)
    assert intrinsics.fx == pytest.approx(50.0) and intrinsics.cx == pytest.approx(24.75)


def test_camera_info_of_another_aspect_ratio_is_an_error_naming_both_sizes():
    with pytest.raises(ConversionError, match=r'camera_info is for 100x80 images but the '
                       r'image is 100x100'):
        frame_intrinsics(_info(100, 80), (), 100, 100)


def test_an_all_zero_k_is_an_error():
    with pytest.raises(ConversionError, match='camera_info K is unusable'):
        frame_intrinsics(_info(100, 80, (0.0,) * 9), (), 100, 80)


def test_the_fallback_is_used_without_camera_info_and_nothing_without_either():
    intrinsics = frame_intrinsics(None, (90.0, 91.0, 49.5, 39.5), 100, 80)
    assert (intrinsics.fy, intrinsics.width) == (91.0, 100)
    assert frame_intrinsics(None, (0.0,), 100, 80) is None


def test_a_malformed_fallback_is_an_error():
    with pytest.raises(ConversionError, match=r'must be \[fx, fy, cx, cy\], got \[1.0, 2.0\]'):
        frame_intrinsics(None, (1.0, 2.0), 100, 80)
