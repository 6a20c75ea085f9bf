# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Importing the paper's released checkpoints and hydranets-course checkpoints.

The foreign files are built from the published architecture facts with random weights
(test/foreign_layouts.py) and saved as their authors' code saved them; the imported network
is compared with an independent ``torch.nn.functional`` forward over the raw state dict.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
import pickle
import resource
import subprocess
import sys

from foreign_layouts import (hydranets_forward, hydranets_state_dict, release_forward,
                             release_state_dict)
from mtl_perception.checkpoint import load_checkpoint
from mtl_perception.errors import CheckpointImportError
from mtl_perception.importers.importer import import_checkpoint
from mtl_perception.inference import Predictor
from mtl_perception.labels import get_class_set
import numpy as np
import pytest
import torch
from torch.nn import functional as F


def _save_release(path: Path, state: dict) -> Path:
    """Save as the 2019 release did: ``{'state_dict': sd}`` in the pre-1.6 (non-zip) format."""
    torch.save({'state_dict': state}, path, _use_new_zipfile_serialization=False)
    return path


def _save_hydranets(path: Path, state: dict) -> Path:
    """Save as the course's Saver does: weights, epoch and numpy scores side by side."""
    torch.save({'state_dict': state, 'epoch': 42,
                'best_val': (np.float64(0.31), np.float32(0.72))}, path)
    return path


def _forward(path: Path, image: torch.Tensor) -> dict[str, torch.Tensor]:
    model = load_checkpoint(path).model
    with torch.no_grad():
        return model(image)


def _assert_same(ours: dict[str, torch.Tensor], raw: tuple[torch.Tensor, ...] | list) -> None:
    torch.testing.assert_close(ours['segmentation'], raw[0], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(ours['depth'], raw[1].abs(), rtol=1e-4, atol=1e-4)
    assert torch.equal(ours['segmentation'].argmax(1), raw[0].argmax(1))
    if len(raw) > 2:
        torch.testing.assert_close(ours['normals'], F.normalize(raw[2], dim=1),
                                   rtol=1e-4, atol=1e-4)
    else:
        assert 'normals' not in ours


@pytest.mark.parametrize(('classes', 'normals', 'size'), [
    (6, False, (375, 1242)), (40, False, (97, 131)), (40, True, (97, 131))])
def test_a_released_model_reproduces_the_reference_forward_on_odd_frame_sizes(
        tmp_path, classes, normals, size):
    state = release_state_dict(classes, normals=normals, counter=False)
    source = _save_release(tmp_path / 'ExpTest.ckpt', state)
    metadata = import_checkpoint(source, tmp_path / 'out.pt')
    image = torch.randn(1, 3, *size, generator=torch.Generator().manual_seed(1))
    _assert_same(_forward(tmp_path / 'out.pt', image), release_forward(state, image))
    assert metadata.arch_kwargs == {'first_block_expansion': True, 'align_corners': False,
                                    'pad_input': False, 'depth_decoding': 'abs',
                                    'normals': normals}


def test_imported_metadata_names_the_domain_classes_depth_range_and_provenance(tmp_path):
    source = _save_release(tmp_path / 'ExpKITTI_joint.ckpt', release_state_dict(6))
    import_checkpoint(source, tmp_path / 'kitti.pt', command='mtl_import_checkpoint x')
    metadata = load_checkpoint(tmp_path / 'kitti.pt').metadata
    assert metadata.class_names == get_class_set('kitti_6').names
    assert metadata.class_names[:3] == ('sky', 'building', 'road')
    assert metadata.depth_range == (0.0, 80.0)
    assert metadata.input_size == (375, 1242)
    assert metadata.dataset == 'kitti'
    assert metadata.created_by['importer'] == 'release'
    assert metadata.created_by['source']['file'] == 'ExpKITTI_joint.ckpt'
    assert metadata.created_by['source']['sha256'] == hashlib.sha256(
        source.read_bytes()).hexdigest()
    assert metadata.metrics['reported_by_authors']['miou'] == pytest.approx(0.87)


def test_the_input_size_option_makes_every_frame_resized_to_it(tmp_path):
    source = _save_release(tmp_path / 'nyud.ckpt', release_state_dict(40))
    assert not import_checkpoint(source, tmp_path / 'own.pt').resize_input
    metadata = import_checkpoint(source, tmp_path / 'nyud.pt', input_size=(240, 320))
    assert metadata.input_size == (240, 320) and metadata.resize_input
    assert load_checkpoint(tmp_path / 'nyud.pt').metadata.resize_input
    assert metadata.depth_range == (0.0, 10.0)
    frame = np.random.default_rng(5).integers(0, 256, (97, 131, 3), dtype=np.uint8)
    seen = Predictor.from_checkpoint(tmp_path / 'nyud.pt', device='cpu').preprocess(
        torch.from_numpy(frame))
    assert tuple(seen.shape[-2:]) == (240, 320)


def _release_pipeline(state: dict, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run the authors' pipeline at the frame's own size: labels, |depth| after upsampling."""
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    batch = torch.from_numpy(((rgb / 255.0 - mean) / std).transpose(2, 0, 1)[None]).float()
    segmentation, depth = release_forward(state, batch)
    size = rgb.shape[:2]
    labels = F.interpolate(segmentation, size=size, mode='bilinear').argmax(1)[0].numpy()
    metres = F.interpolate(depth, size=size, mode='bilinear')[0, 0].abs().numpy()
    return labels, metres


def test_an_imported_model_runs_at_each_frames_own_size_in_every_engine(tmp_path, monkeypatch):
    from mtl_perception.engines.loading import load_engine
    monkeypatch.setenv('MTL_PERCEPTION_CACHE', str(tmp_path / 'cache'))
    state = release_state_dict(6)  # a random head: its raw depth changes sign here and there
    import_checkpoint(_save_release(tmp_path / 'kitti.ckpt', state), tmp_path / 'kitti.pt')
    engines = {backend: load_engine(tmp_path / 'kitti.pt', backend=backend, device='cpu')
               for backend in ('torch', 'onnxruntime')}
    assert engines['onnxruntime'].resizes is False and engines['torch'].resizes is False
    for size in ((97, 322), (130, 200)):  # KITTI-shaped and another, neither a multiple of 32
        rgb = np.random.default_rng(size[0]).integers(0, 256, (*size, 3), dtype=np.uint8)
        labels, metres = _release_pipeline(state, rgb)
        for backend, engine in engines.items():
            prediction = engine.predict(rgb)
            assert (prediction.labels == labels).mean() >= 0.995, (backend, size)
            valid = (labels != 0) & (prediction.labels != 0) & (metres <= 80)
            np.testing.assert_allclose(prediction.depth[valid], metres[valid], rtol=1e-3,
                                       atol=1e-4, err_msg=f'{backend} at {size}')


def test_abs_depth_is_taken_after_upsampling_as_the_authors_do(tmp_path):
    state = release_state_dict(6)
    import_checkpoint(_save_release(tmp_path / 'kitti.ckpt', state), tmp_path / 'kitti.pt')
    rgb = np.random.default_rng(6).integers(0, 256, (97, 322, 3), dtype=np.uint8)
    labels, metres = _release_pipeline(state, rgb)
    predictor = Predictor.from_checkpoint(tmp_path / 'kitti.pt', device='cpu')
    valid = (labels != 0) & (metres <= 80)
    np.testing.assert_allclose(predictor.predict(rgb).depth[valid], metres[valid], rtol=1e-3,
                               atol=1e-4)
    # |x| before upsampling (what the network's own 'depth' output gives) is far off where
    # the raw output changes sign between cells: the comparison above can fail
    batch = predictor.preprocess(torch.from_numpy(rgb))
    with torch.no_grad():
        early = F.interpolate(predictor.model(batch)['depth'], size=rgb.shape[:2],
                              mode='bilinear')[0, 0].numpy()
    off = np.abs(early - metres) > 0.1 * np.maximum(metres, 0.1)
    assert off[valid].mean() > 0.005


@pytest.mark.parametrize(('domain', 'rows', 'class_set'), [
    ('nyud', slice(0, 40), 'nyuv2_40'), ('kitti', slice(40, 46), 'kitti_6')])
def test_the_joint_46_class_model_keeps_the_chosen_domain_rows(tmp_path, domain, rows,
                                                               class_set):
    state = release_state_dict(46)
    source = _save_release(tmp_path / 'ExpNYUDKITTI_joint.ckpt', state)
    metadata = import_checkpoint(source, tmp_path / 'out.pt', domain=domain)
    assert metadata.class_names == get_class_set(class_set).names
    image = torch.randn(1, 3, 64, 96, generator=torch.Generator().manual_seed(2))
    ours = _forward(tmp_path / 'out.pt', image)
    segmentation, depth = release_forward(state, image)
    torch.testing.assert_close(ours['segmentation'], segmentation[:, rows], rtol=1e-4,
                               atol=1e-4)
    torch.testing.assert_close(ours['depth'], depth.abs(), rtol=1e-4, atol=1e-4)


def test_the_joint_model_without_a_domain_is_refused_and_nothing_is_written(tmp_path):
    source = _save_release(tmp_path / 'joint.ckpt', release_state_dict(46))
    with pytest.raises(CheckpointImportError, match='46-class joint .* --domain nyud'):
        import_checkpoint(source, tmp_path / 'out.pt')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['joint.ckpt']


def test_a_domain_that_contradicts_the_head_is_refused(tmp_path):
    source = _save_release(tmp_path / 'nyud.ckpt', release_state_dict(40))
    with pytest.raises(CheckpointImportError, match='--domain kitti does not fit a 40-class'):
        import_checkpoint(source, tmp_path / 'out.pt', domain='kitti')


@pytest.mark.parametrize(('widths', 'prefix'), [((40, 1), 'module.'), ((1, 6), 'module.'),
                                                ((40, 1, 3), ''), ((3, 40, 1), 'module.')])
def test_a_hydranets_checkpoint_reproduces_the_course_forward_in_any_head_order(
        tmp_path, widths, prefix):
    state = hydranets_state_dict(widths)
    saved = {key.replace('module.', prefix, 1): value for key, value in state.items()}
    source = _save_hydranets(tmp_path / 'checkpoint.pth.tar', saved)
    metadata = import_checkpoint(source, tmp_path / 'out.pt')
    assert metadata.arch_kwargs['align_corners'] is True
    image = torch.randn(1, 3, 97, 131, generator=torch.Generator().manual_seed(3))
    raw = hydranets_forward(state, image)
    segmentation = next(i for i, width in enumerate(widths) if width not in (1, 3))
    order = [segmentation, widths.index(1)] + ([widths.index(3)] if 3 in widths else [])
    _assert_same(_forward(tmp_path / 'out.pt', image), [raw[i] for i in order])


def test_the_course_upsampling_convention_matters_so_the_comparison_can_fail(tmp_path):
    state = hydranets_state_dict((40, 1))
    source = _save_hydranets(tmp_path / 'checkpoint.pth.tar', state)
    import_checkpoint(source, tmp_path / 'out.pt')
    checkpoint = load_checkpoint(tmp_path / 'out.pt')
    checkpoint.model.decoder.align_corners = False
    image = torch.randn(1, 3, 97, 131, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        wrong = checkpoint.model(image)['segmentation']
    assert (wrong - hydranets_forward(state, image)[0]).abs().max() > 1e-3


def test_two_three_channel_heads_need_a_head_order(tmp_path):
    source = _save_hydranets(tmp_path / 'ck.pth.tar', hydranets_state_dict((3, 1, 3)))
    with pytest.raises(CheckpointImportError, match='cannot tell segmentation from normals'):
        import_checkpoint(source, tmp_path / 'out.pt')
    with pytest.raises(CheckpointImportError, match='segmentation head of 3 classes matches no'):
        import_checkpoint(source, tmp_path / 'out.pt',
                          head_order=['segmentation', 'depth', 'normals'])
    assert not (tmp_path / 'out.pt').exists()


def test_an_imported_model_predicts_the_reference_pipeline_at_its_frame_size(tmp_path):
    state = release_state_dict(6)  # a random head changes sign: |x| after upsampling matters
    import_checkpoint(_save_release(tmp_path / 'kitti.ckpt', state), tmp_path / 'kitti.pt',
                      input_size=(125, 414))
    rgb = np.random.default_rng(4).integers(0, 256, (125, 414, 3), dtype=np.uint8)
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    batch = torch.from_numpy(((rgb / 255.0 - mean) / std).transpose(2, 0, 1)[None]).float()
    segmentation, depth = release_forward(state, batch)
    labels = F.interpolate(segmentation, size=(125, 414), mode='bilinear').argmax(1)[0].numpy()
    metres = F.interpolate(depth, size=(125, 414), mode='bilinear')[0, 0].abs().numpy()
    contiguous = Predictor.from_checkpoint(tmp_path / 'kitti.pt', device='cpu',
                                           channels_last=False)
    network_input = contiguous.preprocess(torch.from_numpy(rgb))
    torch.testing.assert_close(network_input, batch, rtol=0, atol=1e-6)
    exact = contiguous.predict(rgb)
    assert (exact.labels == labels).mean() > 0.999
    valid = (labels != 0) & (exact.labels != 0) & (metres <= 80)  # class 0 is sky: no depth
    np.testing.assert_allclose(exact.depth[valid], metres[valid], rtol=1e-4, atol=1e-5)
    assert np.isnan(exact.depth[exact.labels == 0]).all()
    fast = Predictor.from_checkpoint(tmp_path / 'kitti.pt', device='cpu').predict(rgb)
    assert (fast.labels == labels).mean() > 0.999  # NHWC kernels only reorder the sums
    np.testing.assert_allclose(fast.depth[valid], metres[valid], rtol=1e-4, atol=1e-5)


def test_a_truncated_file_is_refused_with_one_line_and_no_output(tmp_path):
    source = _save_release(tmp_path / 'full.ckpt', release_state_dict(6))
    data = source.read_bytes()
    (tmp_path / 'cut.ckpt').write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointImportError, match='cut.ckpt: not a readable checkpoint'):
        import_checkpoint(tmp_path / 'cut.ckpt', tmp_path / 'out.pt')
    assert not (tmp_path / 'out.pt').exists()


class _RunsACommand:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


def test_a_malicious_pickle_is_refused_without_running_its_code(tmp_path):
    marker = tmp_path / 'pwned'
    torch.save({'state_dict': release_state_dict(6), 'payload': _RunsACommand(marker)},
               tmp_path / 'evil.ckpt')
    with pytest.raises(CheckpointImportError, match='refused to load: the pickle asks for'):
        import_checkpoint(tmp_path / 'evil.ckpt', tmp_path / 'out.pt')
    assert not marker.exists()
    assert not (tmp_path / 'out.pt').exists()


def test_a_file_of_another_layout_names_its_first_keys(tmp_path):
    torch.save({'state_dict': {'backbone.conv1.weight': torch.zeros(1)}}, tmp_path / 'x.pt')
    with pytest.raises(CheckpointImportError, match=r"not a known layout .* \['backbone"):
        import_checkpoint(tmp_path / 'x.pt', tmp_path / 'out.pt')


def test_a_release_file_with_a_missing_head_names_the_missing_keys(tmp_path):
    state = release_state_dict(6)
    del state['pre_depth.weight']
    source = _save_release(tmp_path / 'broken.ckpt', state)
    with pytest.raises(CheckpointImportError, match=r"gaps: missing keys \['pre_depth.weight'"):
        import_checkpoint(source, tmp_path / 'out.pt')
    assert not (tmp_path / 'out.pt').exists()


def test_nan_weights_are_refused_as_damage(tmp_path):
    state = release_state_dict(6)
    state['conv8.weight'][0, 0] = float('nan')
    source = _save_release(tmp_path / 'nan.ckpt', state)
    with pytest.raises(CheckpointImportError, match=r"NaN or infinite weights in \['decoder"):
        import_checkpoint(source, tmp_path / 'out.pt')


def test_an_imagenet_encoder_file_is_pointed_to_training(tmp_path):
    encoder = {k: v for k, v in release_state_dict(6).items() if k.startswith('layer')}
    torch.save(encoder, tmp_path / 'mobilenetv2-e6e8dd43.pth')
    with pytest.raises(CheckpointImportError, match='encoder-only ImageNet file'):
        import_checkpoint(tmp_path / 'mobilenetv2-e6e8dd43.pth', tmp_path / 'out.pt')


def test_an_mtl_perception_checkpoint_needs_no_import(tmp_path, checkpoint_path):
    with pytest.raises(CheckpointImportError, match='already an mtl_perception checkpoint'):
        import_checkpoint(checkpoint_path, tmp_path / 'out.pt')


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-m', 'mtl_perception', 'mtl_import_checkpoint',
                           *args], capture_output=True, text=True, timeout=300)


def test_the_command_imports_and_reports_what_it_wrote(tmp_path):
    source = _save_release(tmp_path / 'ExpNYUD_three.ckpt', release_state_dict(40, normals=True))
    result = _cli(str(source), '--output', str(tmp_path / 'three.pt'))
    assert result.returncode == 0, result.stderr
    assert ('release layout, nyud (40 classes), tasks: segmentation, depth, normals, runs at '
            "each frame's own size (--input-size HxW to resize every frame)") in result.stderr
    resized = _cli(str(source), '--output', str(tmp_path / 'resized.pt'), '--input-size',
                   '240x320')
    assert resized.returncode == 0, resized.stderr
    assert 'normals, frames resized to 240x320' in resized.stderr
    metadata = load_checkpoint(tmp_path / 'three.pt').metadata
    assert metadata.created_by['command'].startswith('mtl_import_checkpoint ')


def test_the_command_fails_with_one_line_and_exit_1_on_a_bad_file(tmp_path):
    (tmp_path / 'junk.ckpt').write_bytes(b'not a checkpoint at all')
    result = _cli(str(tmp_path / 'junk.ckpt'), '--output', str(tmp_path / 'out.pt'))
    assert result.returncode == 1
    assert result.stderr.count('\n') == 1
    assert result.stderr.startswith('mtl_import_checkpoint: error: ')
    assert 'Traceback' not in result.stderr
    assert not (tmp_path / 'out.pt').exists()


@pytest.mark.parametrize(('args', 'message'), [
    (['--input-size', '10x10'], 'sides must be 32..8192'),
    (['--input-size', 'big'], 'HEIGHTxWIDTH'),
    (['--domain', 'mars'], "invalid choice: 'mars'")])
def test_the_command_refuses_bad_arguments_with_exit_2(tmp_path, args, message):
    result = _cli(str(tmp_path / 'x.ckpt'), '--output', str(tmp_path / 'o.pt'), *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_the_command_refuses_a_folder_as_output(tmp_path):
    result = _cli(str(tmp_path / 'x.ckpt'), '--output', str(tmp_path))
    assert result.returncode == 2
    assert 'is a folder' in result.stderr


def test_a_release_file_without_its_segmentation_head_names_that_key(tmp_path):
    state = release_state_dict(6)
    del state['segm.weight']
    source = _save_release(tmp_path / 'no_segm.ckpt', state)
    with pytest.raises(CheckpointImportError, match="gaps: 'segm.weight' .* is missing"):
        import_checkpoint(source, tmp_path / 'out.pt')


def test_a_negative_batchnorm_variance_is_refused_as_impossible(tmp_path):
    state = release_state_dict(6)
    key = next(k for k in state if k.endswith('running_var'))
    state[key][0] = -0.25
    source = _save_release(tmp_path / 'negative.ckpt', state)
    with pytest.raises(CheckpointImportError, match=r'impossible statistics: negative running '
                                                    r'variance in \[.*min -0\.25'):
        import_checkpoint(source, tmp_path / 'out.pt')
    assert not (tmp_path / 'out.pt').exists()


def test_a_forged_tensor_declaring_a_huge_shape_is_refused_before_it_is_touched(tmp_path):
    state = release_state_dict(6)
    state['conv8.weight'] = torch.zeros(1).expand(30000, 30000)  # zero strides: 4 bytes stored
    torch.save({'state_dict': state}, tmp_path / 'forged.ckpt')
    assert (tmp_path / 'forged.ckpt').stat().st_size < 50_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckpointImportError, match='forged or damaged tensor '
                                                    r"'state_dict.conv8.weight': it declares "
                                                    r'shape \(30000, 30000\)'):
        import_checkpoint(tmp_path / 'forged.ckpt', tmp_path / 'out.pt')
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 500_000  # KiB


@pytest.mark.parametrize('protocol', [0, 2, 4])
def test_no_refusal_repeats_torchs_advice_to_load_unsafely(tmp_path, protocol):
    marker = tmp_path / 'pwned'
    with (tmp_path / 'evil.pkl').open('wb') as stream:
        pickle.dump({'state_dict': _RunsACommand(marker)}, stream, protocol=protocol)
    result = _cli(str(tmp_path / 'evil.pkl'), '--output', str(tmp_path / 'out.pt'))
    assert result.returncode == 1 and result.stderr.count('\n') == 1, result.stderr
    assert 'weights_only' not in result.stderr and 'Weights only' not in result.stderr
    assert ' is not loaded' in result.stderr or 'refused to load' in result.stderr
    assert not marker.exists()


def test_a_legacy_file_says_it_carries_no_checksum_and_a_published_hash_catches_a_flip(
        tmp_path):
    source = _save_release(tmp_path / 'ExpKITTI_joint.ckpt', release_state_dict(6))
    published = hashlib.sha256(source.read_bytes()).hexdigest()
    result = _cli(str(source), '--output', str(tmp_path / 'plain.pt'))
    assert result.returncode == 0, result.stderr
    assert 'pre-1.6 PyTorch format, which carries no checksum' in result.stderr
    assert load_checkpoint(tmp_path / 'plain.pt').metadata.created_by['source'][
        'integrity'].startswith('none: the pre-1.6 PyTorch format')
    result = _cli(str(source), '--output', str(tmp_path / 'checked.pt'), '--sha256', published)
    assert result.returncode == 0 and 'carries no checksum' not in result.stderr
    data = bytearray(source.read_bytes())
    data[len(data) - 1000] ^= 0x40  # inside the last tensor's bytes: torch.load cannot tell
    source.write_bytes(bytes(data))
    result = _cli(str(source), '--output', str(tmp_path / 'flipped.pt'), '--sha256', published)
    assert result.returncode == 1
    assert f'its SHA-256 is {hashlib.sha256(bytes(data)).hexdigest()}, not the expected ' \
        f'{published}' in result.stderr
    assert not (tmp_path / 'flipped.pt').exists()


def _enc_dec(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Put release keys where Multi_Task_Learning's Hydranet has them: enc. and dec."""
    return {('enc.' if key.startswith('layer') else 'dec.') + key: value
            for key, value in state.items()}


@pytest.mark.parametrize(('classes', 'size'), [(6, (194, 640)), (40, (97, 131))])
def test_a_multi_task_learning_hydranet_state_dict_imports_as_the_release(tmp_path, classes,
                                                                          size):
    state = release_state_dict(classes, counter=False)
    torch.save(_enc_dec(state), tmp_path / 'hydranet.pth')  # its train.py: a plain state dict
    metadata = import_checkpoint(tmp_path / 'hydranet.pth', tmp_path / 'out.pt')
    assert metadata.created_by['importer'] == 'multi_task_learning'
    assert 'reported_by_authors' not in metadata.metrics  # the user's weights, not the paper's
    image = torch.randn(1, 3, *size, generator=torch.Generator().manual_seed(2))
    _assert_same(_forward(tmp_path / 'out.pt', image), release_forward(state, image))


def test_a_multi_task_learning_file_missing_a_decoder_key_names_it(tmp_path):
    state = _enc_dec(release_state_dict(6))
    del state['dec.crp2.0.3_outvar_dimred.weight']
    torch.save(state, tmp_path / 'hydranet.pth')
    with pytest.raises(CheckpointImportError, match=r'a multi_task_learning checkpoint with '
                                                    r'gaps: .*crp2.0.3_outvar_dimred'):
        import_checkpoint(tmp_path / 'hydranet.pth', tmp_path / 'out.pt')
