# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Tests of the mtl_infer command, run as a real process on real files."""

import os
import resource
import signal
import subprocess
import sys

import cv2
from mtl_perception.inference import Predictor
from mtl_perception.visualize import depth_colour_bar
import numpy as np
import open3d as o3d
import pytest


def run_infer(*args):
    return subprocess.run([sys.executable, '-m', 'mtl_perception', 'mtl_infer', *map(str, args)],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def image_folder(tmp_path, street_image):
    folder = tmp_path / 'images'
    folder.mkdir()
    cv2.imwrite(str(folder / 'frame_a.png'), street_image[..., ::-1])
    cv2.imwrite(str(folder / 'frame_b.jpg'), street_image[::-1, :, ::-1])
    (folder / 'notes.txt').write_text('not an image')
    return folder


def test_folder_of_images_gives_every_picture_and_matches_the_predictor(
        tmp_path, image_folder, checkpoint_path, street_image):
    output = tmp_path / 'out'
    result = run_infer(image_folder, '--model', checkpoint_path, '--output', output,
                       '--device', 'cpu')
    assert result.returncode == 0, result.stderr
    for stem in ('frame_a', 'frame_b'):
        for kind in ('segmentation', 'labels', 'depth', 'mosaic'):
            assert (output / f'{stem}_{kind}.png').is_file()
    mosaic = cv2.imread(str(output / 'frame_a_mosaic.png'))
    assert mosaic.shape == (50, 210, 3)
    labels = cv2.imread(str(output / 'frame_a_labels.png'), cv2.IMREAD_UNCHANGED)
    expected = Predictor.from_checkpoint(checkpoint_path, device='cpu').predict(street_image)
    np.testing.assert_array_equal(labels, expected.labels)
    assert 'wrote 2 frame(s)' in result.stderr


def test_ply_holds_the_valid_points_with_colours_and_labels(tmp_path, image_folder,
                                                            checkpoint_path, street_image):
    output = tmp_path / 'out'
    result = run_infer(image_folder / 'frame_a.png', '--model', checkpoint_path, '--ply',
                       '--output', output, '--intrinsics', 60, 60, 34.5, 24.5)
    assert result.returncode == 0, result.stderr
    cloud = o3d.t.io.read_point_cloud(str(output / 'frame_a.ply'))
    expected = Predictor.from_checkpoint(checkpoint_path, device='cpu').predict(street_image)
    valid = np.isfinite(expected.depth)
    positions = cloud.point.positions.numpy()
    assert positions.shape == (valid.sum(), 3)
    np.testing.assert_allclose(positions[:, 2], expected.depth[valid], rtol=1e-5)
    np.testing.assert_array_equal(cloud.point.label.numpy().ravel(), expected.labels[valid])
    colours = cloud.point.colors.numpy()
    np.testing.assert_array_equal(colours, expected.palette[expected.labels[valid]])


def test_video_frames_are_written_one_by_one_with_frames(tmp_path, checkpoint_path,
                                                         street_image):
    video = tmp_path / 'clip.avi'
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'MJPG'), 10, (70, 50))
    for _ in range(3):
        writer.write(np.ascontiguousarray(street_image[..., ::-1]))
    writer.release()
    output = tmp_path / 'out'
    result = run_infer(video, '--model', checkpoint_path, '--output', output, '--frames')
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in output.glob('*_mosaic.png')) == [
        'clip_000000_mosaic.png', 'clip_000001_mosaic.png', 'clip_000002_mosaic.png']


def test_unreadable_image_is_named_skipped_and_makes_the_exit_code_1(tmp_path, image_folder,
                                                                     checkpoint_path):
    (image_folder / 'broken.png').write_bytes(b'\x89PNG truncated')
    output = tmp_path / 'out'
    result = run_infer(image_folder, '--model', checkpoint_path, '--output', output)
    assert result.returncode == 1
    assert 'broken.png: cannot be decoded as an image' in result.stderr
    assert (output / 'frame_a_mosaic.png').is_file()


def test_missing_input_is_a_usage_error(tmp_path, checkpoint_path):
    result = run_infer(tmp_path / 'absent.png', '--model', checkpoint_path)
    assert result.returncode == 2
    assert "input '" in result.stderr and "absent.png' does not exist" in result.stderr


def test_bad_checkpoint_is_a_usage_error_naming_the_file(tmp_path, image_folder):
    bad = tmp_path / 'bad.pt'
    bad.write_bytes(b'not a checkpoint')
    result = run_infer(image_folder, '--model', bad)
    assert result.returncode == 2
    assert 'bad.pt: not a readable checkpoint' in result.stderr


def test_random_init_warns_that_the_network_is_untrained(tmp_path, image_folder):
    result = run_infer(image_folder / 'frame_a.png', '--random-init', '--output',
                       tmp_path / 'out')
    assert result.returncode == 0, result.stderr
    assert 'UNTRAINED' in result.stderr


def test_help_describes_every_output():
    result = run_infer('--help')
    assert result.returncode == 0
    for name in ('_segmentation.png', '_labels.png', '_depth.png', '_depth16.png',
                 '_mosaic.png', '.ply', '_cloud.png', 'NAME.mp4', 'NAME.gif'):
        assert name in result.stdout


def test_a_three_task_model_adds_a_normals_picture_and_mosaic_panel(
        tmp_path, image_folder, normals_checkpoint_path, street_image):
    output = tmp_path / 'out'
    result = run_infer(image_folder / 'frame_a.png', '--model', normals_checkpoint_path,
                       '--output', output, '--device', 'cpu')
    assert result.returncode == 0, result.stderr
    normals = cv2.imread(str(output / 'frame_a_normals.png'))[..., ::-1]
    expected = Predictor.from_checkpoint(normals_checkpoint_path, device='cpu').predict(
        street_image).normals
    valid = np.isfinite(expected).all(axis=2)
    colour = np.round((expected[valid] + 1) * 127.5)
    assert np.abs(normals[valid].astype(int) - colour).max() <= 1
    assert (normals[~valid] == 0).all()
    assert cv2.imread(str(output / 'frame_a_mosaic.png')).shape == (50, 280, 3)


def test_both_backends_and_an_exported_graph_write_the_same_labels(
        tmp_path, image_folder, checkpoint_path):
    from mtl_perception.engines.onnx_export import export_onnx
    graph = tmp_path / 'model.onnx'
    export_onnx(checkpoint_path, graph, dynamic_size=True)
    labels = {}
    for name, args in (('torch', ['--model', checkpoint_path, '--backend', 'torch']),
                       ('onnxruntime', ['--model', checkpoint_path, '--backend', 'onnxruntime']),
                       ('graph', ['--model', graph])):
        result = run_infer(image_folder / 'frame_a.png', *args, '--output', tmp_path / name,
                           '--device', 'cpu')
        assert result.returncode == 0, result.stderr
        labels[name] = cv2.imread(str(tmp_path / name / 'frame_a_labels.png'),
                                  cv2.IMREAD_UNCHANGED)
    assert (labels['onnxruntime'] == labels['torch']).mean() >= 0.999
    np.testing.assert_array_equal(labels['graph'], labels['onnxruntime'])


def test_precision_int8_runs_the_int8_model_and_refuses_another_backend(
        tmp_path, int8_model, street_image):
    from mtl_perception.engines.loading import load_engine
    from mtl_perception.synthetic import render_frame
    frame = render_frame(1_000_800).rgb
    cv2.imwrite(str(tmp_path / 'street.png'), frame[..., ::-1])
    result = run_infer(tmp_path / 'street.png', '--model', int8_model, '--precision', 'int8',
                       '--output', tmp_path / 'out')
    assert result.returncode == 0, result.stderr
    labels = cv2.imread(str(tmp_path / 'out' / 'street_labels.png'), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(labels, load_engine(int8_model).predict(frame).labels)
    refused = run_infer(tmp_path / 'street.png', '--model', int8_model, '--precision', 'int8',
                        '--backend', 'torch', '--output', tmp_path / 'refused')
    assert refused.returncode == 2
    assert 'precision int8 runs on backend openvino (or auto), not torch' in refused.stderr
    assert refused.stderr.count('\n') == 1 and not (tmp_path / 'refused').exists()


def test_an_unknown_backend_is_a_usage_error(tmp_path, image_folder, checkpoint_path):
    result = run_infer(image_folder, '--model', checkpoint_path, '--backend', 'tensorrt',
                       '--output', tmp_path / 'out')
    assert result.returncode == 2 and "invalid choice: 'tensorrt'" in result.stderr


@pytest.mark.parametrize(('args', 'message'), [
    (['--intrinsics', '-1', '1', '1', '1', '--ply'], 'degenerate intrinsics fx=-1.0'),
    (['--intrinsics', 'nan', '1', '1', '1'], 'degenerate intrinsics fx=nan'),
    (['--hfov', '0', '--ply'], "'0': must be between 0 and 180 degrees"),
    (['--hfov', 'wide'], "'wide' is not a number of degrees"),
])
def test_bad_camera_arguments_are_refused_before_any_output(
        tmp_path, image_folder, checkpoint_path, args, message):
    result = run_infer(image_folder, '--model', checkpoint_path, '--output', tmp_path / 'out',
                       *args)
    assert result.returncode == 2
    assert message in result.stderr and 'Traceback' not in result.stderr
    assert not (tmp_path / 'out').exists()


def test_an_existing_file_as_output_is_refused(tmp_path, image_folder, checkpoint_path):
    (tmp_path / 'taken').write_text('mine')
    result = run_infer(image_folder, '--model', checkpoint_path, '--output', tmp_path / 'taken')
    assert result.returncode == 2
    assert "--output '" in result.stderr and 'is a file; name a folder' in result.stderr
    assert (tmp_path / 'taken').read_text() == 'mine'


def test_same_named_inputs_from_different_folders_keep_distinct_outputs(
        tmp_path, street_image, checkpoint_path):
    for folder, image in (('left', street_image), ('right', street_image[::-1])):
        (tmp_path / folder).mkdir()
        cv2.imwrite(str(tmp_path / folder / 'frame.png'), np.ascontiguousarray(image[..., ::-1]))
    result = run_infer(tmp_path / 'left', tmp_path / 'right', '--model', checkpoint_path,
                       '--output', tmp_path / 'out', '--device', 'cpu')
    assert result.returncode == 0, result.stderr
    predictor = Predictor.from_checkpoint(checkpoint_path, device='cpu')
    for folder, image in (('left', street_image), ('right', street_image[::-1])):
        labels = cv2.imread(str(tmp_path / 'out' / f'{folder}_frame_labels.png'),
                            cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(labels, predictor.predict(
            np.ascontiguousarray(image)).labels)


def test_a_legend_names_the_colour_of_every_class(tmp_path, image_folder, checkpoint_path):
    result = run_infer(image_folder / 'frame_a.png', '--model', checkpoint_path, '--output',
                       tmp_path / 'out', '--device', 'cpu')
    assert result.returncode == 0, result.stderr
    picture = cv2.imread(str(tmp_path / 'out' / 'legend.png'))[..., ::-1]
    palette = Predictor.from_checkpoint(checkpoint_path, device='cpu').palette
    assert picture.shape[0] == 22 * len(palette)
    for index, colour in enumerate(palette):
        np.testing.assert_array_equal(picture[22 * index + 10, 20], colour)
    depth_range = Predictor.from_checkpoint(checkpoint_path, device='cpu').metadata.depth_range
    scale = cv2.imread(str(tmp_path / 'out' / 'depth_scale.png'))[..., ::-1]
    np.testing.assert_array_equal(scale, depth_colour_bar(depth_range))


def _infer_with_cache(cache, *args, file_size_limit=None):
    """Run mtl_infer with its own export cache (and optionally a file size limit: a full disk)."""
    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes then fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))
    return subprocess.run(
        [sys.executable, '-m', 'mtl_perception', 'mtl_infer', *map(str, args)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, 'MTL_PERCEPTION_CACHE': str(cache)},
        preexec_fn=limit_file_size if file_size_limit else None)


def test_an_unwritable_export_cache_is_one_line_exit_1_before_any_export(
        tmp_path, image_folder, checkpoint_path):
    (tmp_path / 'a_file').write_text('')
    result = _infer_with_cache(tmp_path / 'a_file' / 'cache', image_folder, '--model',
                               checkpoint_path, '--output', tmp_path / 'out', '--device', 'cpu',
                               '--backend', 'onnxruntime')
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f'mtl_infer: ERROR: the export cache {tmp_path}/a_file/cache/onnx is not writable (Not a '
        'directory); set MTL_PERCEPTION_CACHE to a writable folder, or use the torch backend']
    assert not (tmp_path / 'out').exists()


def test_backend_auto_runs_torch_when_the_export_cache_is_unwritable(
        tmp_path, image_folder, checkpoint_path):
    (tmp_path / 'a_file').write_text('')
    result = _infer_with_cache(tmp_path / 'a_file' / 'cache', image_folder, '--model',
                               checkpoint_path, '--output', tmp_path / 'out', '--device', 'cpu')
    assert result.returncode == 0, result.stderr
    assert 'Backend auto runs this checkpoint with torch instead' in result.stderr
    assert (tmp_path / 'out' / 'frame_a_labels.png').is_file()


def test_a_full_disk_during_the_export_is_exit_1_and_the_exporter_stays_quiet(
        tmp_path, image_folder, checkpoint_path):
    result = _infer_with_cache(tmp_path / 'cache', image_folder, '--model', checkpoint_path,
                               '--output', tmp_path / 'out', '--device', 'cpu', '--backend',
                               'onnxruntime', file_size_limit=256 * 1024)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2, lines  # the export announced, then why it failed; no chatter
    assert 'could not write the exported graph' in lines[1] and 'File too large' in lines[1]
    assert not list((tmp_path / 'cache' / 'onnx').iterdir())  # no partial graph left


def test_input_size_resizes_every_frame_to_it(tmp_path, image_folder, street_image):
    from mtl_perception.tools.infer import untrained_predictor
    result = run_infer(image_folder / 'frame_a.png', '--random-init', '--output',
                       tmp_path / 'out', '--device', 'cpu', '--input-size', '64x96')
    assert result.returncode == 0, result.stderr
    labels = cv2.imread(str(tmp_path / 'out' / 'frame_a_labels.png'), cv2.IMREAD_UNCHANGED)
    resized = untrained_predictor('cpu', (64, 96)).predict(street_image)
    np.testing.assert_array_equal(labels, resized.labels)
    trained_size = untrained_predictor('cpu').predict(street_image)
    assert (labels != trained_size.labels).mean() > 0.05  # the option changed the input
