# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Training starts from ImageNet encoder files in torchvision's or the release's layout."""

from mtl_perception.errors import ModelConfigError
from mtl_perception.importers.backbone import load_imagenet_encoder
from mtl_perception.model import build_model
import pytest
import torch
from torchvision.models import mobilenet_v2


def test_backbone_weights_load_from_a_local_torchvision_state_dict(tmp_path):
    torch.manual_seed(1)
    reference = mobilenet_v2(weights=None)
    path = tmp_path / 'mobilenet_v2.pth'
    torch.save(reference.state_dict(), path)
    model = build_model('mbv2_lwrefinenet', num_classes=3)
    load_imagenet_encoder(model.encoder, path)
    first_conv = model.encoder.blocks[0][0].weight
    torch.testing.assert_close(first_conv, reference.features[0][0].weight)
    last_tapped = model.encoder.blocks[17].conv[-2].weight
    torch.testing.assert_close(last_tapped, reference.features[17].conv[-2].weight)


def test_missing_backbone_weights_file_is_named(tmp_path):
    with pytest.raises(ModelConfigError, match=r"backbone weights '.*absent.pth' not found"):
        load_imagenet_encoder(build_model('mbv2_lwrefinenet', num_classes=3).encoder,
                              tmp_path / 'absent.pth')


def test_backbone_weights_of_another_network_are_rejected(tmp_path):
    path = tmp_path / 'other.pth'
    torch.save({'conv.weight': torch.zeros(1)}, path)
    with pytest.raises(ModelConfigError, match='do not fit torchvision mobilenet_v2'):
        load_imagenet_encoder(build_model('mbv2_lwrefinenet', num_classes=3).encoder, path)


def _release_encoder_file(tmp_path, **changes):
    from foreign_layouts import release_state_dict
    state = {k: v for k, v in release_state_dict(6).items() if k.startswith('layer')}
    state.update(changes)
    path = tmp_path / 'mobilenetv2-e6e8dd43.pth'
    torch.save(state, path)
    return path, state


def test_training_can_start_from_the_release_layout_imagenet_file(tmp_path):
    from foreign_layouts import _mobilenet_taps
    path, state = _release_encoder_file(tmp_path)
    model = build_model('mbv2_lwrefinenet', num_classes=3, first_block_expansion=True).eval()
    load_imagenet_encoder(model.encoder, path)
    image = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        ours = model.encoder(image)
        reference = _mobilenet_taps(image, state, '')
    for tap, expected in zip(ours, reference):
        torch.testing.assert_close(tap, expected)


def test_a_release_layout_backbone_needs_the_release_encoder_variant(tmp_path):
    path, _ = _release_encoder_file(tmp_path)
    with pytest.raises(ModelConfigError, match='release .* first_block_expansion=true'):
        load_imagenet_encoder(build_model('mbv2_lwrefinenet', num_classes=3).encoder, path)
    torch.save(mobilenet_v2(weights=None).state_dict(), tmp_path / 'tv.pth')
    with pytest.raises(ModelConfigError, match='torchvision .* first_block_expansion=false'):
        load_imagenet_encoder(build_model('mbv2_lwrefinenet', num_classes=3,
                                          first_block_expansion=True).encoder, tmp_path / 'tv.pth')


def test_a_release_layout_backbone_with_a_classifier_is_refused_not_trimmed(tmp_path):
    path, _ = _release_encoder_file(tmp_path, **{'fc.weight': torch.zeros(10, 1280)})
    with pytest.raises(ModelConfigError, match=r"unexpected keys \['fc.weight'\]"):
        load_imagenet_encoder(build_model('mbv2_lwrefinenet', num_classes=3,
                                          first_block_expansion=True).encoder, path)
