# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Tests of checkpoint saving and of every error path of loading."""

import os
from pathlib import Path
import pickle
import subprocess
import sys

from conftest import ARCH, make_metadata
from mtl_perception.checkpoint import (
    FORMAT_VERSION, load_checkpoint, ModelMetadata, save_checkpoint
)
from mtl_perception.errors import CheckpointError
import pytest
import torch


def test_round_trip_restores_weights_and_metadata(tmp_path, small_model):
    metadata = make_metadata(metrics={'miou': 0.5, 'data': 'seeds 1000-1099'},
                             created_by={'command': 'mtl_train --config x.yaml'})
    path = save_checkpoint(tmp_path / 'sub' / 'model.pt', small_model, metadata)
    loaded = load_checkpoint(path)
    assert loaded.metadata == metadata
    assert not loaded.model.training
    for key, value in small_model.state_dict().items():
        torch.testing.assert_close(loaded.model.state_dict()[key], value)


def test_half_storage_halves_the_file_and_loads_back_as_float32(tmp_path, small_model):
    full = save_checkpoint(tmp_path / 'full.pt', small_model, make_metadata())
    half = save_checkpoint(tmp_path / 'half.pt', small_model, make_metadata(), half=True)
    assert os.path.getsize(half) < 0.6 * os.path.getsize(full)
    loaded = load_checkpoint(half).model.state_dict()
    weight = 'segmentation_head.out.weight'
    assert loaded[weight].dtype == torch.float32
    torch.testing.assert_close(loaded[weight], small_model.state_dict()[weight],
                               atol=1e-3, rtol=1e-3)


def test_training_state_is_kept_for_resuming(tmp_path, small_model):
    optimiser = torch.optim.SGD(small_model.parameters(), lr=0.1, momentum=0.9)
    state = {'epoch': 3, 'optimizer': optimiser.state_dict()}
    path = save_checkpoint(tmp_path / 'last.pt', small_model, make_metadata(),
                           training_state=state)
    assert load_checkpoint(path).training_state['epoch'] == 3


def test_failed_save_leaves_the_previous_file_and_no_temporary(tmp_path, small_model):
    path = save_checkpoint(tmp_path / 'model.pt', small_model, make_metadata())
    before = path.read_bytes()
    with pytest.raises((AttributeError, pickle.PicklingError), match="Can't pickle"):
        save_checkpoint(path, small_model, make_metadata(),
                        training_state={'unpicklable': lambda: None})
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ['model.pt']


def test_missing_file_is_named(tmp_path):
    with pytest.raises(CheckpointError, match=r'absent\.pt: checkpoint file not found'):
        load_checkpoint(tmp_path / 'absent.pt')


def test_directory_is_not_a_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match='not a regular file'):
        load_checkpoint(tmp_path)


def test_random_bytes_are_not_a_checkpoint(tmp_path):
    path = tmp_path / 'noise.pt'
    path.write_bytes(os.urandom(4096))
    with pytest.raises(CheckpointError, match=r'noise\.pt: not a readable checkpoint'):
        load_checkpoint(path)


def test_truncated_file_is_reported(tmp_path, checkpoint_path):
    path = tmp_path / 'truncated.pt'
    path.write_bytes(checkpoint_path.read_bytes()[:100_000])
    with pytest.raises(CheckpointError, match=r'truncated\.pt: not a readable checkpoint '
                                              r'\(truncated'):
        load_checkpoint(path)


def test_arbitrary_pickled_objects_are_refused_by_weights_only_loading(tmp_path):
    path = tmp_path / 'pickle.pt'
    torch.save({'format_version': FORMAT_VERSION, 'payload': ModelMetadata}, path)
    with pytest.raises(CheckpointError, match=r'pickle\.pt: refused to load: the pickle asks '
                                              r'for mtl_perception\.checkpoint\.ModelMetadata'
                       ) as refused:
        load_checkpoint(path)
    assert 'weights_only' not in str(refused.value)  # torch's unsafe advice is not passed on


def test_plain_state_dict_is_not_an_mtl_perception_checkpoint(tmp_path, small_model):
    path = tmp_path / 'state_dict.pt'
    torch.save(small_model.state_dict(), path)
    with pytest.raises(CheckpointError,
                       match=r'state_dict\.pt: not an mtl_perception checkpoint'):
        load_checkpoint(path)


def test_unknown_format_version_is_reported_with_the_supported_one(tmp_path, small_model):
    path = tmp_path / 'future.pt'
    torch.save({'format_version': 99, 'metadata': make_metadata().to_dict(),
                'state_dict': small_model.state_dict()}, path)
    with pytest.raises(CheckpointError,
                       match=rf'future\.pt: unknown checkpoint format_version 99; .* '
                             rf'reads version {FORMAT_VERSION}'):
        load_checkpoint(path)


def _write_payload(path, metadata, state_dict):
    torch.save({'format_version': FORMAT_VERSION, 'metadata': metadata,
                'state_dict': state_dict}, path)
    return path


def test_unknown_architecture_in_the_file_is_named(tmp_path, small_model):
    metadata = make_metadata().to_dict() | {'arch': 'segformer'}
    path = _write_payload(tmp_path / 'arch.pt', metadata, small_model.state_dict())
    with pytest.raises(CheckpointError, match='arch\\.pt: invalid metadata: unknown arch '
                                              "'segformer'"):
        load_checkpoint(path)


def test_architecture_other_than_expected_is_a_mismatch(checkpoint_path):
    with pytest.raises(CheckpointError, match='architecture mismatch: checkpoint holds '
                                              f"'{ARCH}', expected 'other'"):
        load_checkpoint(checkpoint_path, expected_arch='other')


def test_class_count_other_than_expected_is_a_mismatch(checkpoint_path):
    with pytest.raises(CheckpointError, match=r'model\.pt: class count mismatch: checkpoint '
                                              r'has 8 classes, expected 40'):
        load_checkpoint(checkpoint_path, expected_num_classes=40)


def test_weights_for_another_class_count_are_reported_with_shapes(tmp_path, small_model):
    metadata = make_metadata(num_classes=40).to_dict()
    path = _write_payload(tmp_path / 'classes.pt', metadata, small_model.state_dict())
    with pytest.raises(CheckpointError,
                       match=r'weight shapes do not fit .* with 40 classes: '
                             r'segmentation_head\.out\.weight: file \(8, 256, 3, 3\) vs '
                             r'model \(40, 256, 3, 3\)'):
        load_checkpoint(path)


def test_missing_and_unexpected_weights_are_listed(tmp_path, small_model):
    state = dict(small_model.state_dict())
    state['extra.weight'] = state.pop('depth_head.out.bias')
    path = _write_payload(tmp_path / 'keys.pt', make_metadata().to_dict(), state)
    with pytest.raises(CheckpointError,
                       match=r"missing keys \['depth_head\.out\.bias'\], unexpected keys "
                             r"\['extra\.weight'\]"):
        load_checkpoint(path)


@pytest.mark.parametrize(('change', 'message'), [
    ({'class_names': ('a', 'b')}, '2 class_names for 8 classes'),
    ({'palette': ((0, 0, 0),)}, r'palette must hold 8 \(r, g, b\) colours'),
    ({'depth_range': (5.0, 1.0)}, 'depth_range must be'),
    ({'input_size': (0, 64)}, 'input_size must be'),
])
def test_inconsistent_metadata_is_rejected_on_save_and_load(
        tmp_path, small_model, change, message):
    metadata = make_metadata().to_dict() | change
    path = _write_payload(tmp_path / 'meta.pt', metadata, small_model.state_dict())
    with pytest.raises(CheckpointError, match=rf'meta\.pt: invalid metadata: .*{message}'):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match=message):
        save_checkpoint(tmp_path / 'new.pt', small_model, ModelMetadata(**metadata))


def test_metadata_without_required_fields_is_rejected(tmp_path, small_model):
    metadata = make_metadata().to_dict()
    del metadata['depth_range']
    path = _write_payload(tmp_path / 'partial.pt', metadata, small_model.state_dict())
    with pytest.raises(CheckpointError, match=r"lacks required field\(s\) \['depth_range'\]"):
        load_checkpoint(path)


def test_unknown_metadata_fields_are_rejected(tmp_path, small_model):
    metadata = make_metadata().to_dict() | {'colour_space': 'lab'}
    path = _write_payload(tmp_path / 'extra.pt', metadata, small_model.state_dict())
    with pytest.raises(CheckpointError, match=r"unknown metadata field\(s\) \['colour_space'\]"):
        load_checkpoint(path)


def test_saved_checkpoints_are_readable_by_others_as_the_umask_allows(tmp_path, small_model):
    previous = os.umask(0o022)
    try:
        path = save_checkpoint(tmp_path / 'shared.pt', small_model, make_metadata())
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o644


def _flip_bytes_inside_the_tensors(source: Path, target: Path) -> Path:
    data = bytearray(source.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(b ^ 0xFF for b in data[middle:middle + 64])
    target.write_bytes(bytes(data))
    return target


def test_a_checkpoint_with_flipped_bytes_is_refused_by_its_checksums(tmp_path, checkpoint_path):
    damaged = _flip_bytes_inside_the_tensors(checkpoint_path, tmp_path / 'flipped.pt')
    with pytest.raises(CheckpointError, match=r'flipped.pt: damaged file: the checksum of '
                                              r"'.*' does not match its contents"):
        load_checkpoint(damaged)


def test_evaluation_and_resuming_refuse_a_damaged_checkpoint(tmp_path, checkpoint_path):
    damaged = _flip_bytes_inside_the_tensors(checkpoint_path, tmp_path / 'flipped.pt')
    result = subprocess.run([sys.executable, '-m', 'mtl_perception', 'mtl_eval',
                             '--checkpoint', str(damaged), '--frames', '1'],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and 'damaged file' in result.stderr
    assert 'Traceback' not in result.stderr
    run = tmp_path / 'run'
    run.mkdir()
    _flip_bytes_inside_the_tensors(checkpoint_path, run / 'last.pt')
    (run / 'config.yaml').write_text('{}\n')
    result = subprocess.run([sys.executable, '-m', 'mtl_perception', 'mtl_train', '--output',
                             str(run), '--resume', '--no-progress'],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and 'last.pt: damaged file' in result.stderr


def test_more_classes_than_uint8_labels_hold_are_refused_when_saving(tmp_path, small_model):
    metadata = make_metadata(num_classes=300)
    with pytest.raises(CheckpointError, match=r'num_classes must be 1..255 \(class ids travel '
                                              r'as uint8'):
        save_checkpoint(tmp_path / 'many.pt', small_model, metadata)
    assert not list(tmp_path.iterdir())
