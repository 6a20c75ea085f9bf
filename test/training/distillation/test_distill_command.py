# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``mtl_distill --source``: the teachers' own answers land in the training layout, resumably."""

from __future__ import annotations

import json
import os
from pathlib import Path
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib

import cv2
from distill_fixtures import frames, image_folder, lidar_to_camera, rig_bag, SIZE, video
from mtl_perception.holds import HOLD_ENV
from mtl_perception.labels import get_class_set, IGNORE_ID
from mtl_perception.training.distillation.alignment import points_to_anchors
import numpy as np
from process_holds import run_until_held
import pytest
from teacher_fixtures import CITYSCAPES_NAMES, tiny_depth_anything, tiny_segformer
import torch
from transformers import (
    AutoImageProcessor, AutoModelForDepthEstimation, AutoModelForSemanticSegmentation
)

SYNTHETIC = get_class_set('synthetic').names
#: Cityscapes -> synthetic, written out by hand: equal names, a rider is a person, buses cars.
EXPECTED_MAP = {name: SYNTHETIC.index(name) for name in CITYSCAPES_NAMES if name in SYNTHETIC}
EXPECTED_MAP.update(rider=SYNTHETIC.index('person'), truck=SYNTHETIC.index('car'),
                    bus=SYNTHETIC.index('car'))


@pytest.fixture(scope='module')
def teachers(tmp_path_factory):
    root = tmp_path_factory.mktemp('teachers')
    return {'segmentation': tiny_segformer(root / 'segformer'),
            'metric': tiny_depth_anything(root / 'metric', metric=True),
            'relative': tiny_depth_anything(root / 'relative', metric=False)}


def _command(sources, output, teachers, *extra, depth='metric'):
    return [sys.executable, '-m', 'mtl_perception', 'mtl_distill', '--source',
            *map(str, sources), '--teacher-segmentation', str(teachers['segmentation']),
            '--teacher-depth', str(teachers[depth]), '--classes', 'synthetic',
            '--output', str(output), '--no-progress', '--device', 'cpu', *extra]


def _run(command, **env):
    return subprocess.run(command, capture_output=True, text=True, timeout=600,
                          env={**os.environ, 'HF_HUB_OFFLINE': '1', **env})


def _reference(teachers, rgb):
    """Run the teachers' own pipelines on one frame: mapped labels and metric depth."""
    processor = AutoImageProcessor.from_pretrained(teachers['segmentation'])
    model = AutoModelForSemanticSegmentation.from_pretrained(teachers['segmentation']).eval()
    depth_processor = AutoImageProcessor.from_pretrained(teachers['metric'])
    depth_model = AutoModelForDepthEstimation.from_pretrained(teachers['metric']).eval()
    with torch.no_grad():
        ids = processor.post_process_semantic_segmentation(
            model(**processor(images=[rgb], return_tensors='pt')),
            target_sizes=[rgb.shape[:2]])[0].numpy()
        depth = depth_processor.post_process_depth_estimation(
            depth_model(**depth_processor(images=[rgb], return_tensors='pt')),
            target_sizes=[rgb.shape[:2]])[0]['predicted_depth'].numpy()
    table = np.full(len(CITYSCAPES_NAMES), IGNORE_ID)
    for name, student in EXPECTED_MAP.items():
        table[CITYSCAPES_NAMES.index(name)] = student
    return table[ids], depth


def _outputs(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob('*'))
            if p.is_file() and not p.name.startswith('.') and p.name != 'manifest.json'
            and '.records' not in p.parts}


def test_an_image_folder_gets_the_teachers_mapped_labels_and_metric_depth(tmp_path, teachers):
    source = image_folder(tmp_path / 'images', 3)
    result = _run(_command([source], tmp_path / 'out', teachers, '--min-confidence', '0',
                           '--depth-range', '0.5', '45'))
    assert result.returncode == 0, result.stderr
    assert 'wrote 3 frames' in result.stderr
    out = tmp_path / 'out'
    lines = (out / 'distilled_list.txt').read_text().splitlines()
    assert len(lines) == 3 and lines[0].split('\t')[1].startswith('masks/images-')
    manifest = json.loads((out / 'manifest.json').read_text())
    assert manifest['counts'] == {'written': 3, 'skipped': 0, 'skipped_by_reason': {}}
    assert manifest['settings']['teacher_family'] == 'cityscapes_19'
    assert manifest['settings']['teachers']['segmentation']['sha256']
    sky = SYNTHETIC.index('sky')
    for line, rgb in zip(lines, frames(3)):
        rgb_path, mask_path, depth_path = (out / part for part in line.split('\t'))
        labels, depth = _reference(teachers, rgb)
        np.testing.assert_array_equal(cv2.imread(str(rgb_path))[..., ::-1], rgb)
        np.testing.assert_array_equal(cv2.imread(str(mask_path), cv2.IMREAD_UNCHANGED), labels)
        stored = cv2.imread(str(depth_path), cv2.IMREAD_UNCHANGED)
        assert stored.dtype == np.uint16 and stored.shape == SIZE
        valid = (depth >= 0.5) & (depth <= 45) & (labels != sky)
        assert valid.any() and (~valid).any()
        np.testing.assert_allclose(stored[valid] / 256.0, depth[valid], atol=1 / 256)
        assert (stored[~valid] == 0).all()


def test_a_video_is_distilled_every_nth_frame_and_a_second_run_changes_nothing(tmp_path,
                                                                               teachers):
    path = video(tmp_path / 'drive.avi', 7)
    command = _command([path], tmp_path / 'out', teachers, '--every', '3')
    assert _run(command).returncode == 0
    manifest = json.loads((tmp_path / 'out' / 'manifest.json').read_text())
    assert [frame['index'] for frame in manifest['frames']] == [0, 3, 6]
    before = _outputs(tmp_path / 'out')
    again = _run(command)
    assert again.returncode == 0 and 'wrote 3 frames' in again.stderr
    assert _outputs(tmp_path / 'out') == before


def test_killed_mid_run_the_same_command_finishes_as_an_uninterrupted_run(tmp_path, teachers):
    source = image_folder(tmp_path / 'images', 6)
    reference = _run(_command([source], tmp_path / 'whole', teachers, '--batch-size', '1'))
    assert reference.returncode == 0, reference.stderr
    command = _command([source], tmp_path / 'out', teachers, '--batch-size', '1')
    process = subprocess.Popen(command, env={**os.environ, HOLD_ENV: 'frame 2'},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    records = tmp_path / 'out' / '.records'
    deadline = time.monotonic() + 300
    while not (records.is_dir() and len(list(records.glob('*.json'))) >= 2):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)  # the run holds after its second frame: mid-run
    process.wait(timeout=300)
    assert not (tmp_path / 'out' / 'manifest.json').exists()
    assert len(list(records.glob('*.json'))) == 2
    resumed = _run(command)
    assert resumed.returncode == 0, resumed.stderr
    assert _outputs(tmp_path / 'out') == _outputs(tmp_path / 'whole')
    frames_of = [json.loads((folder / 'manifest.json').read_text())['frames']
                 for folder in (tmp_path / 'out', tmp_path / 'whole')]
    assert frames_of[0] == frames_of[1] and len(frames_of[0]) == 6


@pytest.mark.parametrize('signal_number', [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_run_is_one_line_and_the_frames_done_are_kept(tmp_path, teachers,
                                                                   signal_number):
    source = image_folder(tmp_path / 'images', 3)
    command = _command([source], tmp_path / 'out', teachers, '--batch-size', '1')
    process = subprocess.Popen(command, env={**os.environ, HOLD_ENV: 'frame 1'},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    records = tmp_path / 'out' / '.records'
    deadline = time.monotonic() + 300
    while not (records.is_dir() and any(records.glob('*.json'))):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal_number)
    assert process.wait(timeout=300) == 130
    lines = process.stderr.read().strip().splitlines()
    assert lines == ['holding at frame 1',  # the test's hold point, then the one line
                     f'mtl_distill: interrupted; the 1 frame(s) done so far are kept in '
                     f'{tmp_path / "out"}: run the same command again to go on']
    assert _run(command).returncode == 0
    assert len((tmp_path / 'out' / 'distilled_list.txt').read_text().splitlines()) == 3


def test_relative_depth_is_anchored_on_the_lidar_of_the_bag(tmp_path, teachers):
    rows, cols = np.mgrid[-3:3:0.25, -6:6:0.25]
    wall = np.stack([np.full(rows.size, 12.0), cols.ravel(), rows.ravel()], axis=1)
    bag = rig_bag(tmp_path / 'rig', 2, wall)
    result = _run(_command([bag], tmp_path / 'out', teachers, '--lidar-topic',
                           '/velodyne_points', '--max-fit-residual', '100', depth='relative'))
    # the random teacher's relative depth of a flat wall may fit with either sign; a frame
    # whose fit comes out negative is skipped, with its anchors recorded all the same
    manifest = json.loads((tmp_path / 'out' / 'manifest.json').read_text())
    assert result.returncode == (0 if manifest['counts']['written'] else 1), result.stderr
    assert set(manifest['counts']['skipped_by_reason']) <= {'poor depth fit'}
    anchors = points_to_anchors(lidar_to_camera(wall), (90.0, 90.0, 80.0, 24.0), SIZE,
                                (0.5, 80.0))
    for frame in manifest['frames']:
        assert frame['anchor'] == 'lidar' and frame['fit']['anchors'] == len(anchors)
        assert frame['stream'] == '/cam/image_raw'


def test_under_torchrun_two_ranks_write_one_output_equal_to_one_process(tmp_path, teachers):
    source = image_folder(tmp_path / 'images', 5)
    single = _run(_command([source], tmp_path / 'single', teachers))
    assert single.returncode == 0, single.stderr
    distributed = _command([source], tmp_path / 'ranks', teachers)
    distributed[1:4] = ['-m', 'torch.distributed.run', '--nproc_per_node', '2',
                        '--master_port', str(29500 + os.getpid() % 1000), '-m',
                        'mtl_perception', 'mtl_distill']
    result = _run(distributed, OMP_NUM_THREADS='1')
    assert result.returncode == 0, result.stderr
    ranks, single = _outputs(tmp_path / 'ranks'), _outputs(tmp_path / 'single')
    assert ranks.keys() == single.keys() and len(ranks) == 3 * 5 + 1
    for name in single:  # other batches and thread counts: float sums in another order
        if name.startswith(('rgb/', 'distilled_list')):
            assert ranks[name] == single[name]
            continue
        pair = [cv2.imdecode(np.frombuffer(d[name], np.uint8), cv2.IMREAD_UNCHANGED)
                for d in (ranks, single)]
        if name.startswith('masks/'):
            assert (pair[0] == pair[1]).mean() > 0.999
        else:
            assert np.abs(pair[0].astype(int) - pair[1]).max() <= 1  # 1/256 m


@pytest.fixture(scope='module')
def damaged_teachers(teachers, tmp_path_factory):
    """Make copies of the segmentation teacher, each with one thing wrong."""
    root = tmp_path_factory.mktemp('damaged_teachers')
    made = {}
    for case in ('truncated', 'no_id2label', 'no_processor', 'no_weights'):
        made[case] = shutil.copytree(teachers['segmentation'], root / case)
    weights = made['truncated'] / 'model.safetensors'
    weights.write_bytes(weights.read_bytes()[:weights.stat().st_size // 2])
    config = json.loads((made['no_id2label'] / 'config.json').read_text())
    config.pop('id2label')
    config.pop('label2id')
    (made['no_id2label'] / 'config.json').write_text(json.dumps(config))
    (made['no_processor'] / 'preprocessor_config.json').unlink()
    (made['no_weights'] / 'model.safetensors').unlink()
    return made


@pytest.mark.parametrize(('case', 'message'), [
    ('truncated', r"--teacher-segmentation '.*truncated': cannot load .*: its "
                  r'model.safetensors is damaged \(truncated\?\): SafetensorError'),
    ('no_id2label', r"'.*no_id2label': config.json has no id2label, so the teacher's class "
                    'names are unknown'),
    ('no_processor', r"'.*no_processor': no preprocessor_config.json"),
    ('no_weights', r"'.*no_weights': no weights in the folder \(none of model.safetensors"),
])
def test_a_damaged_teacher_folder_is_one_line_naming_what_is_wrong(tmp_path, teachers,
                                                                   damaged_teachers, case,
                                                                   message):
    result = _run(_command([image_folder(tmp_path / 'images', 1)], tmp_path / 'out',
                           {**teachers, 'segmentation': damaged_teachers[case]}))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(message, lines[0]), lines
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize(('text', 'message'), [
    (b'road: \xff\xfe road\n', r'map.yaml: not UTF-8 text \(byte 6 is 0xff\)$'),
    (b'car: car\ncar: road\n', r"map.yaml: not valid YAML: 'car' is given twice \(lines 1 and "
                               r'2\); give each teacher class once at line 2, column 1$'),
    (b'car: [road\n  x: : y\n', r"map.yaml: not valid YAML: expected ',' or '\]', but got ':' "
                                r'at line 2, column 4$'),
])
def test_a_class_map_that_is_not_one_clean_mapping_is_one_line(tmp_path, teachers, text,
                                                               message):
    (tmp_path / 'map.yaml').write_bytes(text)
    result = _run(_command([image_folder(tmp_path / 'images', 1)], tmp_path / 'out', teachers,
                           '--class-map', str(tmp_path / 'map.yaml')))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(message, lines[0]), lines


def _image_bomb(path: Path, side: int = 20000) -> Path:
    """Write a PNG of ``side`` x ``side`` black pixels: about 1 MB on disk, 1.2 GB decoded."""
    row = b'\x00' * (1 + 3 * side)
    packer = zlib.compressobj(9)
    data = b''.join(packer.compress(row) for _ in range(side)) + packer.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack('>I', len(body)) + kind + body
                + struct.pack('>I', zlib.crc32(kind + body)))
    path.write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack(
        '>IIBBBBB', side, side, 8, 2, 0, 0, 0)) + chunk(b'IDAT', data) + chunk(b'IEND', b''))
    return path


def test_an_image_bomb_is_skipped_by_its_header_and_the_rest_is_distilled(tmp_path, teachers):
    source = image_folder(tmp_path / 'images', 2)
    _image_bomb(source / 'zz_bomb.png')
    result = _run(_command([source], tmp_path / 'out', teachers))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / 'out' / 'manifest.json').read_text())
    assert manifest['counts'] == {'written': 2, 'skipped': 1, 'skipped_by_reason': {
        'larger than --max-pixels 16777216': 1}}


def test_a_truncated_video_is_damage_named_in_the_manifest_unless_accepted(tmp_path,
                                                                           teachers):
    whole = video(tmp_path / 'drive.avi', 12)
    cut = tmp_path / 'cut.avi'
    cut.write_bytes(whole.read_bytes()[:whole.stat().st_size // 2])
    result = _run(_command([cut], tmp_path / 'out', teachers))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(f'mtl_distill: error: output incomplete, a source is damaged: '
                                f'{cut}: truncated or damaged: its container lists 12 frames '
                                'but only ')
    assert 'Traceback' not in result.stderr and '@' not in result.stderr  # no FFmpeg lines
    manifest = json.loads((tmp_path / 'out' / 'manifest.json').read_text())
    assert manifest['damaged'] and 0 < manifest['counts']['written'] < 12
    accepted = _run(_command([cut], tmp_path / 'out', teachers, '--skip-damaged'))
    assert accepted.returncode == 0 and 'accepted with --skip-damaged' in accepted.stderr


def test_a_full_disk_is_one_line_and_the_same_command_then_finishes(tmp_path, teachers):
    source = image_folder(tmp_path / 'images', 3)
    command = _command([source], tmp_path / 'out', teachers, '--batch-size', '1')

    def small_files_only():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes then fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))
    full = subprocess.run(command, capture_output=True, text=True, timeout=600,
                          env={**os.environ, 'HF_HUB_OFFLINE': '1'},
                          preexec_fn=small_files_only)
    assert full.returncode == 1
    lines = full.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f'mtl_distill: error: cannot write {tmp_path / "out"}: [Errno 27] File too large'), lines
    assert _run(command).returncode == 0
    assert len((tmp_path / 'out' / 'distilled_list.txt').read_text().splitlines()) == 3


@pytest.mark.parametrize(('point', 'said'), [
    ('start', 'mtl_distill: stopped by SIGTERM before it started'),  # still importing
    ('teachers loaded', 'mtl_distill: interrupted; no frame was finished, nothing to keep')])
def test_a_signal_before_any_frame_says_nothing_was_kept(tmp_path, teachers, point, said):
    command = _command([image_folder(tmp_path / 'images', 1)], tmp_path / 'out', teachers)
    code, output = run_until_held(command[3:], point, signal.SIGTERM)
    assert code == 130
    assert output.splitlines()[-1] == said and 'Traceback' not in output


@pytest.mark.parametrize(('case', 'message'), [
    ('bad_teacher', r"--teacher-segmentation '.*nowhere': no such model folder"),
    ('hub_offline', r"--teacher-depth 'nobody/absent-model': cannot load .* hub \(offline\?\)"),
    ('unknown_class', r"the student class set 'synthetic' has no class 'lamp'"),
    ('absent_topic', r"no image topic '/front/image_raw' in this bag"),
    ('unreadable_video', r'broken.mp4: not a readable video'),
    ('relative_without_anchors', r'the depth teacher predicts relative depth: give '
                                 r'--camera-height'),
])
def test_bad_input_is_one_line_a_nonzero_exit_and_nothing_written(tmp_path, teachers, case,
                                                                  message):
    images = image_folder(tmp_path / 'images', 1)
    (tmp_path / 'map.yaml').write_text('road: lamp\n')
    (tmp_path / 'broken.mp4').write_bytes(b'\x00' * 64)
    bag = rig_bag(tmp_path / 'rig', 1, np.zeros((1, 3)))
    swaps = {
        'bad_teacher': ({'segmentation': tmp_path / 'nowhere'}, [images], []),
        'hub_offline': ({'metric': 'nobody/absent-model'}, [images], []),
        'unknown_class': ({}, [images], ['--class-map', str(tmp_path / 'map.yaml')]),
        'absent_topic': ({}, [bag], ['--image-topic', '/front/image_raw']),
        'unreadable_video': ({}, [tmp_path / 'broken.mp4'], []),
        'relative_without_anchors': ({'metric': teachers['relative']}, [images], []),
    }
    changed, sources, extra = swaps[case]
    result = _run(_command(sources, tmp_path / 'out', {**teachers, **changed}, *extra),
                  HF_HOME=str(tmp_path / 'hf'))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('mtl_distill: error: ')
    assert re.search(message, lines[0]), lines[0]
    assert not (tmp_path / 'out').exists()
