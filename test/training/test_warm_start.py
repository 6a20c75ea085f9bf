# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""A run starts from torchvision's cached ImageNet file, else a checkpoint of ours, else random."""

from __future__ import annotations

from mtl_perception.checkpoint import load_checkpoint
from mtl_perception.default_model import default_model_path
from mtl_perception.errors import CheckpointError
from mtl_perception.model import build_model
from mtl_perception.training.errors import TrainingConfigError
from mtl_perception.training.warm_start import initialise
import pytest
import torch
from torchvision.models import mobilenet_v2

CONFIG = {'backbone_weights': 'auto', 'init_checkpoint': 'default'}


def test_auto_takes_torchvisions_cached_file_when_the_machine_has_one(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    (tmp_path / 'hub' / 'checkpoints').mkdir(parents=True)
    torch.manual_seed(4)
    reference = mobilenet_v2(weights=None)
    torch.save(reference.state_dict(), tmp_path / 'hub/checkpoints/mobilenet_v2-b0353104.pth')
    model = build_model('mbv2_lwrefinenet', num_classes=19)
    assert initialise(model, CONFIG).startswith('encoder from ImageNet weights ')
    torch.testing.assert_close(model.encoder.blocks[3].conv[0][0].weight,
                               reference.features[3].conv[0][0].weight)


def test_without_it_the_shipped_weights_start_all_but_a_head_of_another_class_count(
        tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    model = build_model('mbv2_lwrefinenet', num_classes=19)
    done = initialise(model, CONFIG)
    assert done == f'weights of {default_model_path()} (random: segmentation_head.out)'
    shipped = load_checkpoint(default_model_path()).model.state_dict()
    torch.testing.assert_close(model.state_dict()['decoder.projections.0.weight'],
                               shipped['decoder.projections.0.weight'])
    torch.testing.assert_close(model.state_dict()['depth_head.out.weight'],
                               shipped['depth_head.out.weight'])
    assert model.segmentation_head.out.weight.shape[0] == 19


def test_nothing_asked_is_random_and_a_checkpoint_that_fits_nothing_is_refused(
        tmp_path, checkpoint_path):
    model = build_model('mbv2_lwrefinenet', num_classes=3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert initialise(model, {'backbone_weights': None, 'init_checkpoint': None}) == \
        'random weights'
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    with pytest.raises(TrainingConfigError, match=r'init_checkpoint .*model.pt: none of its '
                                                  r'weights fit this model'):
        initialise(torch.nn.Linear(3, 3), {'backbone_weights': None,
                                           'init_checkpoint': str(checkpoint_path)})
    with pytest.raises(CheckpointError, match='absent.pt'):
        initialise(model, {'backbone_weights': None,
                           'init_checkpoint': str(tmp_path / 'absent.pt')})
