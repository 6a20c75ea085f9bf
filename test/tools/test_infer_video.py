# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""mtl_infer on videos and folders: stacked MP4s and GIFs, frame selection, metric depth files.

Everything runs the real command on real files and reads the results back with OpenCV and
Pillow.
"""

import resource
import signal
import subprocess
import sys

import cv2
from mtl_perception.geometry import backproject, Intrinsics
from mtl_perception.inference import Predictor
from mtl_perception.tools.infer_outputs import FramePictures, StackedFrames
from mtl_perception.visualize import render_cloud
import numpy as np
from PIL import Image
from process_holds import run_until_held
import pytest
import torch


def run_infer(*args, preexec_fn=None):
    return subprocess.run([sys.executable, '-m', 'mtl_perception', 'mtl_infer', *map(str, args)],
                          capture_output=True, text=True, timeout=300, preexec_fn=preexec_fn)


def moving_frames(street_image, count):
    """``count`` different frames: the street shifted sideways a little more each time."""
    return [np.ascontiguousarray(np.roll(street_image, 3 * index, axis=1))
            for index in range(count)]


@pytest.fixture
def clip(tmp_path, street_image):
    """Write a 12-frame MJPG video at 15 frames/s; return it and its frames, decoded."""
    path = tmp_path / 'clip.avi'
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 15, (70, 50))
    for frame in moving_frames(street_image, 12):
        writer.write(frame[:, :, ::-1])
    writer.release()
    decoded = [np.ascontiguousarray(rgb[:, :, ::-1]) for rgb in read_video(path)[0]]
    assert len(decoded) == 12
    return path, decoded


def read_video(path):
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame[:, :, ::-1])
    rate = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    return frames, rate


def expected_stack(checkpoint_path, bgr):
    predictor = Predictor.from_checkpoint(checkpoint_path, device='cpu')
    prediction = predictor.predict(bgr, bgr=True)
    stack = StackedFrames(predictor.class_names, predictor.palette,
                          predictor.metadata.depth_range)
    return stack(FramePictures.of(bgr, prediction, predictor.metadata.depth_range))


def test_a_video_becomes_one_stacked_mp4_of_the_selected_frames(tmp_path, clip,
                                                                checkpoint_path):
    path, decoded = clip
    output = tmp_path / 'out'
    result = run_infer(path, '--model', checkpoint_path, '--output', output, '--device', 'cpu',
                       '--start', 1, '--every', 3, '--max-frames', 3)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in output.iterdir()) == [
        'clip.mp4', 'depth_scale.png', 'legend.png']
    frames, rate = read_video(output / 'clip.mp4')
    assert len(frames) == 3
    assert rate == pytest.approx(15 / 3)
    stacks = [expected_stack(checkpoint_path, source) for source in decoded]
    height, width = stacks[0].shape[:2]
    for frame in frames:
        assert frame.shape == (height + height % 2, width + width % 2, 3)
        assert np.abs(frame[:height, :width].astype(int) - stacks[1]).mean() < 10  # lossy
    panels = 3 * decoded[0].shape[0]  # image, segmentation, depth; then the keys
    nearest = [int(np.argmin([np.abs(frame[:panels, :width].astype(int) - stack[:panels]).mean()
                              for stack in stacks])) for frame in frames]
    assert nearest == [1, 4, 7]


def test_frames_of_a_video_are_named_by_their_index_and_depth16_holds_the_metres(
        tmp_path, clip, checkpoint_path):
    path, decoded = clip
    output = tmp_path / 'out'
    result = run_infer(path, '--model', checkpoint_path, '--output', output, '--device', 'cpu',
                       '--frames', '--no-video', '--start', 2, '--every', 5)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in output.glob('*_depth16.png')) == [
        'clip_000002_depth16.png', 'clip_000007_depth16.png']
    assert not list(output.glob('*.mp4'))
    predictor = Predictor.from_checkpoint(checkpoint_path, device='cpu')
    for index in (2, 7):
        stored = cv2.imread(str(output / f'clip_{index:06d}_depth16.png'), cv2.IMREAD_UNCHANGED)
        assert stored.dtype == np.uint16
        depth = predictor.predict(decoded[index], bgr=True).depth
        valid = np.isfinite(depth)
        assert (stored[~valid] == 0).all() and (stored[valid] > 0).all()
        assert np.abs(stored[valid] / 256.0 - depth[valid]).max() <= 1 / 512 + 1e-6


def test_a_folder_gives_frames_a_video_at_the_given_rate_and_a_small_gif(
        tmp_path, street_image, checkpoint_path):
    folder = tmp_path / 'drive'
    folder.mkdir()
    for index, frame in enumerate(moving_frames(street_image, 25)):
        cv2.imwrite(str(folder / f'{index:010d}.png'), frame[:, :, ::-1])
    output = tmp_path / 'out'
    result = run_infer(folder, '--model', checkpoint_path, '--output', output, '--device', 'cpu',
                       '--video', '--gif', '--fps', 30)
    assert result.returncode == 0, result.stderr
    assert len(list(output.glob('*_mosaic.png'))) == 25  # still images: frames by default
    frames, rate = read_video(output / 'drive.mp4')
    assert len(frames) == 25 and rate == pytest.approx(30)
    gif = Image.open(output / 'drive.gif')
    assert gif.n_frames == 9  # 30 frames/s taken down to 10: every third of 25
    expected = expected_stack(checkpoint_path, cv2.imread(str(folder / '0000000003.png')))
    assert gif.info['duration'] == 100 and gif.size == expected.shape[1::-1]
    gif.seek(1)
    picture = np.asarray(gif.convert('RGB'))
    assert np.abs(picture.astype(int) - expected).mean() < 8


def test_ply_comes_with_a_picture_of_the_cloud(tmp_path, street_image, checkpoint_path):
    image = tmp_path / 'frame.png'
    cv2.imwrite(str(image), street_image[:, :, ::-1])
    output = tmp_path / 'out'
    result = run_infer(image, '--model', checkpoint_path, '--output', output, '--ply',
                       '--intrinsics', 60, 60, 34.5, 24.5)
    assert result.returncode == 0, result.stderr
    picture = cv2.imread(str(output / 'frame_cloud.png'))[:, :, ::-1]
    prediction = Predictor.from_checkpoint(checkpoint_path, device='cpu').predict(street_image)
    valid = np.isfinite(prediction.depth)
    points = backproject(torch.from_numpy(prediction.depth),
                         Intrinsics(60, 60, 34.5, 24.5, 70, 50)).numpy()[valid]
    expected = render_cloud(points, prediction.palette[prediction.labels[valid]])
    np.testing.assert_array_equal(picture, expected)
    assert (picture != 24).any(axis=2).sum() > 500  # the points were drawn


@pytest.mark.parametrize(('codec', 'exit_code', 'message'), [
    ('zzzz', 1, '--codec zzzz: this OpenCV build cannot write it into an MP4; try mp4v or '
                'auto'),
    ('xvid', 1, "--codec xvid: this OpenCV build writes it into an MP4 as 'mp4v' instead; ask "
                'for that one, or auto'),
    ('h.264', 2, "--codec 'h.264': give a four-character code (FOURCC) such as avc1 or mp4v, "
                 'or auto'),
])
def test_a_codec_that_cannot_be_written_is_one_line_before_any_output(
        tmp_path, clip, checkpoint_path, codec, exit_code, message):
    result = run_infer(clip[0], '--model', checkpoint_path, '--output', tmp_path / 'out',
                       '--codec', codec)
    assert result.returncode == exit_code
    assert result.stderr.splitlines() == [f'mtl_infer: ERROR: {message}']
    assert not (tmp_path / 'out').exists()


def test_a_bad_video_is_named_and_leaves_no_video_while_the_good_one_is_written(
        tmp_path, clip, checkpoint_path):
    bad = tmp_path / 'broken.mp4'
    bad.write_bytes(b'\x00\x00\x00\x18ftypmp42' + bytes(200))
    output = tmp_path / 'out'
    result = run_infer(bad, clip[0], '--model', checkpoint_path, '--output', output,
                       '--max-frames', 2)
    assert result.returncode == 1
    assert [line for line in result.stderr.splitlines() if 'ERROR' in line] == [
        f'mtl_infer: ERROR: {bad}: cannot be opened as a video']
    assert all(line.startswith('mtl_') for line in result.stderr.splitlines()), result.stderr
    assert sorted(p.name for p in output.iterdir()) == [
        'clip.mp4', 'depth_scale.png', 'legend.png']


def test_an_output_folder_that_cannot_be_created_is_one_line_and_exit_2(
        tmp_path, clip, checkpoint_path):
    (tmp_path / 'a_file').write_text('mine')
    result = run_infer(clip[0], '--model', checkpoint_path, '--output',
                       tmp_path / 'a_file' / 'out')
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"mtl_infer: ERROR: --output '{tmp_path}/a_file/out' cannot be created: "
        f"'{tmp_path}/a_file' is a file"]


def test_a_disk_that_fills_up_during_the_video_leaves_no_video(tmp_path, checkpoint_path):
    rng = np.random.default_rng(0)
    path = tmp_path / 'noise.avi'
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 10, (320, 96))
    for _ in range(20):
        writer.write(rng.integers(0, 255, (96, 320, 3), dtype=np.uint8))
    writer.release()

    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes then fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (96 * 1024, 96 * 1024))
    output = tmp_path / 'out'
    result = run_infer(path, '--model', checkpoint_path, '--output', output,
                       preexec_fn=limit_file_size)
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if 'ERROR' in line]
    assert len(errors) == 1 and 'noise.mp4: only' in errors[0], result.stderr
    assert 'reached the file (is the disk full?); nothing written' in errors[0]
    assert 'wrote 0 frame(s)' in result.stderr  # none reached a file
    assert sorted(p.name for p in output.iterdir()) == []


def test_selection_arguments_are_checked(tmp_path, clip, checkpoint_path):
    for args, message in ((['--every', '0'], "argument --every: '0': must be at least 1"),
                          (['--start', '-1'], "argument --start: '-1': must be at least 0"),
                          (['--max-frames', 'x'], "argument --max-frames: 'x' is not a whole "),
                          (['--fps', '0'], "argument --fps: '0': must be above 0")):
        result = run_infer(clip[0], '--model', checkpoint_path, '--output', tmp_path / 'out',
                           *args)
        assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / 'out').exists()


def test_a_truncated_video_is_named_as_damaged_and_gives_no_video(tmp_path, clip,
                                                                  checkpoint_path):
    cut = tmp_path / 'cut.avi'
    data = clip[0].read_bytes()
    cut.write_bytes(data[:len(data) // 2])
    output = tmp_path / 'out'
    result = run_infer(cut, '--model', checkpoint_path, '--output', output)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if 'ERROR' in line]
    assert len(errors) == 1 and errors[0].startswith(
        f'mtl_infer: ERROR: {cut}: truncated or damaged: its container lists 12 frames but '
        'only '), result.stderr
    assert all(line.startswith('mtl_') for line in result.stderr.splitlines()), result.stderr
    assert sorted(p.name for p in output.iterdir()) == []


def test_an_empty_video_writes_nothing(tmp_path, checkpoint_path):
    empty = tmp_path / 'zero.mp4'
    empty.write_bytes(b'')
    result = run_infer(empty, '--model', checkpoint_path, '--output', tmp_path / 'out')
    assert result.returncode == 1
    assert f'mtl_infer: ERROR: {empty}: cannot be opened as a video' in result.stderr
    assert sorted(p.name for p in (tmp_path / 'out').iterdir()) == []


@pytest.mark.parametrize(('point', 'number'), [('start', signal.SIGINT),
                                               ('frame 2', signal.SIGTERM)])
def test_a_signal_mid_video_leaves_no_partial_video_and_says_so_once(
        tmp_path, clip, checkpoint_path, point, number):
    output = tmp_path / 'out'
    code, stderr = run_until_held(
        ['mtl_infer', clip[0], '--model', checkpoint_path, '--output', output, '--device',
         'cpu'], point, number)
    assert code == 130, stderr
    assert 'Traceback' not in stderr and 'KeyboardInterrupt' not in stderr
    assert stderr.splitlines()[-1].startswith('mtl_infer: ')
    assert len([line for line in stderr.splitlines() if 'interrupted' in line
                or 'stopped by' in line]) == 1
    left = sorted(p.name for p in output.iterdir()) if output.exists() else []
    assert not [name for name in left if name.endswith('.mp4')], left
