# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``mtl_export_onnx --precision int8``: the user's calibration frames, and every refusal.

A bad calibration source (empty, unreadable, of the wrong size) is one line on stderr, exit
code 1, and nothing written; a good one (a folder of the camera's frames) gives an INT8
model at a second, fixed size that agrees with FP32 on frames it never saw.
"""

from __future__ import annotations

from pathlib import Path
import signal
import subprocess

import cv2
from mtl_perception.default_model import default_model_path
from mtl_perception.engines.calibration import MIN_FRAMES
from mtl_perception.engines.loading import load_engine
from mtl_perception.synthetic import render_frame
from mtl_perception.synthetic.kitti_layout import write_kitti_drive
from mtl_perception.tools.calibration_sources import read_calibration_frames
from mtl_perception.tools.export_onnx import main
from mtl_perception.tools.kitti_to_bag import camera_topics, main as kitti_to_bag
import numpy as np
from PIL import Image
from process_holds import run_until_held
import pytest

SIZE = (256, 832)  # a second size, not the trained 640x192


def _write_frames(folder: Path, count: int, size: tuple[int, int], first_seed: int = 0
                  ) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        frame = render_frame(first_seed + index * 71, height=size[0], width=size[1]).rgb
        cv2.imwrite(str(folder / f'frame_{index:03d}.png'), frame[..., ::-1])
    return folder


def _run(capsys, tmp_path: Path, *arguments: str, checkpoint: Path | None = None
         ) -> tuple[int, str]:
    output = tmp_path / 'out' / 'model.xml'
    code = main([str(checkpoint or default_model_path()), '--output', str(output),
                 *arguments])
    return code, capsys.readouterr().err


def _nothing_written(tmp_path: Path) -> bool:
    folder = tmp_path / 'out'
    return not folder.exists() or not any(folder.iterdir())


def test_the_camera_frames_of_a_folder_give_a_fixed_size_int8_model_that_agrees(capsys,
                                                                                caplog,
                                                                                tmp_path):
    frames = _write_frames(tmp_path / 'camera', 40, SIZE)
    code, errors = _run(capsys, tmp_path, '--precision', 'int8', '--calibration', str(frames),
                        '--input-size', f'{SIZE[0]}x{SIZE[1]}')
    assert code == 0, errors
    model = tmp_path / 'out' / 'model.xml'
    assert model.with_suffix('.bin').is_file()
    assert 'INT8 agrees with FP32 on 10 held-out frames' in caplog.text
    int8 = load_engine(model)
    assert int8.record['dynamic_size'] is False and int8.input_size == SIZE
    assert f'30 frames of {frames}' in int8.record['quantization']['calibration']
    fp32 = load_engine(default_model_path(), backend='torch', device='cpu', input_size=SIZE)
    fresh = [render_frame(1_000_700 + index, height=SIZE[0], width=SIZE[1]).rgb
             for index in range(3)]
    agree = np.mean([(int8.predict(f).labels == fp32.predict(f).labels).mean() for f in fresh])
    assert agree >= 0.985
    with pytest.raises(Exception, match=f'takes {SIZE[1]}x{SIZE[0]} frames only'):
        int8.infer(render_frame(1, height=192, width=640).rgb)


@pytest.mark.parametrize('case, message', [
    ('empty', f'0 readable frames; INT8 calibration needs at least {MIN_FRAMES}'),
    ('few', f'5 readable frames; INT8 calibration needs at least {MIN_FRAMES}'),
    ('unreadable', 'frame_004.png: cannot be decoded as an image'),
    ('wrong size', 'calibration frame frame_000 is 320x96; this graph takes 640x192 frames '
                   'only'),
    ('missing', 'no such file or folder'),
    ('not a bag', 'not a readable rosbag2'),
])
def test_a_bad_calibration_source_is_one_line_and_nothing_is_written(capsys, tmp_path, case,
                                                                     message):
    source = tmp_path / 'camera'
    if case == 'empty':
        source.mkdir()
    elif case == 'few':
        _write_frames(source, 5, (192, 640))
    elif case == 'unreadable':
        _write_frames(source, 9, (192, 640))
        (source / 'frame_004.png').write_bytes(b'\x89PNG but not really')
    elif case == 'wrong size':
        _write_frames(source, 9, (96, 320))
    elif case == 'not a bag':
        source.mkdir()
        (source / 'metadata.yaml').write_text('rosbag2_bagfile_information: [broken\n')
    code, errors = _run(capsys, tmp_path, '--precision', 'int8', '--calibration', str(source))
    assert code == 1
    assert errors.count('\n') == 1 and errors.startswith('mtl_export_onnx: error: ')
    assert message in errors
    assert _nothing_written(tmp_path)


@pytest.mark.parametrize('arguments, message', [
    (('--precision', 'fp32', '--calibration', 'frames'), 'applies to --precision int8 only'),
    (('--precision', 'int8', '--calibration-frames', '3'), 'must be at least 8'),
], ids=['calibration without int8', 'too few frames asked'])
def test_bad_arguments_are_usage_errors(capsys, tmp_path, arguments, message):
    code, errors = _run(capsys, tmp_path, *arguments)
    assert code == 2 and message in errors and _nothing_written(tmp_path)


def test_help_describes_precision_and_calibration(capsys):
    with pytest.raises(SystemExit) as stop:
        main(['--help'])
    text = ' '.join(capsys.readouterr().out.split())  # as wide as the terminal
    assert stop.value.code == 0
    assert '--precision {fp32,fp16,int8}' in text and '>= 99 % and depth on >= 99 %' in text
    assert '--calibration SRC' in text and 'rosbag2' in text


def test_int8_output_must_be_ir(capsys, tmp_path):
    code = main([str(default_model_path()), '--output', str(tmp_path / 'model.onnx'),
                 '--precision', 'int8'])
    assert code == 2 and 'name --output MODEL.xml' in capsys.readouterr().err


def test_a_checkpoint_of_another_domain_needs_calibration_frames(capsys, tmp_path,
                                                                 checkpoint_path):
    code, errors = _run(capsys, tmp_path, '--precision', 'int8', checkpoint=checkpoint_path)
    assert code == 1 and 'was not trained on rendered streets' in errors
    assert '--calibration SRC' in errors and _nothing_written(tmp_path)


def test_a_bag_gives_frames_of_its_image_topic_spread_over_the_drive(tmp_path):
    drive = write_kitti_drive(tmp_path / 'kitti', seed=5, frames=12, width=64, height=40,
                              with_depth=False, sensors=False, progress=False)
    assert kitti_to_bag([str(drive), str(tmp_path / 'bag'), '--no-progress']) == 0
    topic = camera_topics(2)['image']
    frames = read_calibration_frames(tmp_path / 'bag', 4)  # the bag's only image topic
    named = read_calibration_frames(tmp_path / 'bag', 4, topic)
    assert [name for name, _ in named] == [name for name, _ in frames]
    assert [name for name, _ in frames] == [f'{topic} message {index}' for index in (0, 3, 6, 9)]
    first = cv2.imread(str(sorted((drive / 'image_02' / 'data').iterdir())[0]))[..., ::-1]
    np.testing.assert_array_equal(frames[0][1], first)
    with pytest.raises(Exception, match="no image topic '/nope'"):
        read_calibration_frames(tmp_path / 'bag', 4, '/nope')


def test_an_output_folder_that_cannot_be_made_is_refused_before_quantising(capsys, tmp_path):
    (tmp_path / 'out').write_text('a file where the folder should be')
    code, errors = _run(capsys, tmp_path, '--precision', 'int8')
    assert code == 1
    assert errors.splitlines() == [
        f'mtl_export_onnx: error: --output {tmp_path / "out" / "model.xml"}: {tmp_path / "out"} '
        'is not writable (File exists)']


@pytest.fixture
def tiny_disk(tmp_path):
    """Mount a 1 MB tmpfs (the INT8 model needs about 13 MB); skip where mounting is denied."""
    mount = tmp_path / 'tiny'
    mount.mkdir()
    mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', str(mount)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip('mounting a small tmpfs needs root in a machine that allows it')
    yield mount
    subprocess.run(['umount', str(mount)], check=True)


def test_a_disk_too_small_for_the_model_is_refused_before_quantising(capsys, tiny_disk):
    output = tiny_disk / 'model.xml'
    code = main([str(default_model_path()), '--output', str(output), '--precision', 'int8'])
    errors = capsys.readouterr().err
    assert code == 1
    assert errors.startswith(f'mtl_export_onnx: error: --output {output}: {tiny_disk} has '
                             '1.0 MB free, and about '), errors
    assert list(tiny_disk.iterdir()) == []


@pytest.mark.parametrize(('point', 'number'), [('start', signal.SIGINT),
                                               ('quantising', signal.SIGTERM)])
def test_a_signal_mid_export_is_one_line_and_leaves_nothing(tmp_path, point, number):
    output = tmp_path / 'out' / 'model.xml'
    code, text = run_until_held(['mtl_export_onnx', default_model_path(), '--output', output,
                                 '--precision', 'int8'], point, number)
    assert code == 130
    assert text.splitlines()[-1].startswith(f'mtl_export_onnx: stopped by {number.name}')
    assert 'Traceback' not in text
    assert _nothing_written(tmp_path)


def test_a_calibration_image_bomb_is_refused_by_its_header_before_decoding(capsys, tmp_path):
    frames = _write_frames(tmp_path / 'camera', MIN_FRAMES, (192, 640))
    bomb = frames / 'frame_zzz.png'
    with Image.new('1', (20000, 20000)) as picture:  # 1-bit: a few kB on disk and in memory
        picture.save(bomb)
    code, errors = _run(capsys, tmp_path, '--precision', 'int8', '--calibration', str(frames))
    assert code == 1
    assert errors.splitlines() == [f'mtl_export_onnx: error: {bomb}: a 20000x20000 image has '
                                   'more than 16777216 pixels (the limit); it was not decoded']
    assert _nothing_written(tmp_path)
