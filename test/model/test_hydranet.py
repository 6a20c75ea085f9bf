# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Tests of the network: structure, shapes, gradients and registry."""

from mtl_perception.errors import ModelConfigError
from mtl_perception.model import available_models, build_model
from mtl_perception.model.complexity import count_multiply_adds, count_parameters
import pytest
import torch

PAPER_PARAMETERS = 3_070_057
PAPER_MULTIPLY_ADDS = 6.5e9


@pytest.fixture(scope='module')
def nyu_model():
    torch.manual_seed(0)
    return build_model('mbv2_lwrefinenet', num_classes=40)


def test_encoder_taps_are_found_at_strides_4_to_32_with_mobilenet_widths(nyu_model):
    assert nyu_model.encoder.out_strides == [4, 8, 16, 16, 32, 32]
    assert nyu_model.encoder.out_channels == [24, 32, 64, 96, 160, 320]


def test_parameter_count_matches_the_paper_within_one_percent(nyu_model):
    parameters = count_parameters(nyu_model)
    assert parameters == 3_068_969
    assert abs(parameters - PAPER_PARAMETERS) / PAPER_PARAMETERS < 0.01


def test_multiply_adds_at_640x480_are_within_ten_percent_of_the_paper(nyu_model):
    counts = count_multiply_adds(nyu_model, 480, 640)
    assert abs(counts['convolution'] - PAPER_MULTIPLY_ADDS) / PAPER_MULTIPLY_ADDS < 0.10
    with_pooling = counts['convolution'] + counts['max_pool']
    assert abs(with_pooling - PAPER_MULTIPLY_ADDS) / PAPER_MULTIPLY_ADDS < 0.01


@pytest.mark.parametrize(('height', 'width'), [(64, 64), (480, 640), (97, 131), (33, 45)])
def test_forward_returns_a_dict_at_output_stride_4_for_any_input_size(height, width):
    torch.manual_seed(0)
    model = build_model('mbv2_lwrefinenet', num_classes=6).eval()
    with torch.no_grad():
        outputs = model(torch.randn(2, 3, height, width))
    expected = (-(-height // 4), -(-width // 4))
    assert set(outputs) == {'segmentation', 'depth'}
    assert outputs['segmentation'].shape == (2, 6, *expected)
    assert outputs['depth'].shape == (2, 1, *expected)
    assert (outputs['depth'] >= 0).all()


def test_backward_reaches_every_parameter_without_nan():
    torch.manual_seed(0)
    model = build_model('mbv2_lwrefinenet', num_classes=5).train()
    outputs = model(torch.randn(2, 3, 64, 96))
    loss = outputs['segmentation'].logsumexp(1).mean() + outputs['depth'].mean()
    loss.backward()
    for name, parameter in model.named_parameters():
        assert torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name
        assert torch.isfinite(outputs['segmentation']).all()


def test_wrong_input_rank_is_reported_with_its_shape(nyu_model):
    with pytest.raises(ModelConfigError, match=r'expected a \(B, 3, H, W\).*\(3, 64, 64\)'):
        nyu_model(torch.zeros(3, 64, 64))


def test_unknown_model_name_lists_the_available_models():
    assert available_models() == ['mbv2_lwrefinenet']
    with pytest.raises(ModelConfigError,
                       match=r"unknown model 'resnet50'; available models: mbv2_lwrefinenet"):
        build_model('resnet50', num_classes=3)


def test_unknown_builder_option_lists_the_valid_options():
    with pytest.raises(ModelConfigError, match=r"no option\(s\) \['width'\].*decoder_channels"):
        build_model('mbv2_lwrefinenet', num_classes=3, width=2)


def test_class_count_must_be_positive():
    with pytest.raises(ModelConfigError, match='num_classes must be a positive integer'):
        build_model('mbv2_lwrefinenet', num_classes=0)


def test_the_release_encoder_variant_has_exactly_the_paper_parameter_count():
    torch.manual_seed(0)
    model = build_model('mbv2_lwrefinenet', num_classes=40, first_block_expansion=True)
    assert count_parameters(model) == PAPER_PARAMETERS
    assert model.encoder.out_channels == [24, 32, 64, 96, 160, 320]


@pytest.mark.parametrize(('height', 'width'), [(375, 1242), (97, 131)])
def test_the_padding_free_forward_returns_the_same_sizes(height, width):
    torch.manual_seed(0)
    model = build_model('mbv2_lwrefinenet', num_classes=6, pad_input=False).eval()
    with torch.no_grad():
        outputs = model(torch.randn(1, 3, height, width))
    assert outputs['segmentation'].shape[-2:] == (-(-height // 4), -(-width // 4))


def test_abs_depth_decoding_gives_the_magnitude_of_the_raw_output():
    torch.manual_seed(0)
    model = build_model('mbv2_lwrefinenet', num_classes=3, depth_decoding='abs').eval()
    features = torch.randn(1, 256, 8, 8)
    head = model.depth_head
    raw = head.out(head.activation(head.pre(features)))
    torch.testing.assert_close(head(features), raw.abs())
    with pytest.raises(ModelConfigError, match="unknown depth decoding 'sqrt'"):
        build_model('mbv2_lwrefinenet', num_classes=3, depth_decoding='sqrt')


def test_a_normals_head_adds_unit_vectors_and_trains():
    torch.manual_seed(0)
    model = build_model('mbv2_lwrefinenet', num_classes=5, normals=True).train()
    assert model.tasks == ('segmentation', 'depth', 'normals')
    outputs = model(torch.randn(2, 3, 64, 96))
    assert outputs['normals'].shape == (2, 3, 16, 24)
    torch.testing.assert_close(outputs['normals'].norm(dim=1), torch.ones(2, 16, 24))
    outputs['normals'][:, 2].mean().backward()
    assert model.normals_head.out.weight.grad.abs().sum() > 0
    assert build_model('mbv2_lwrefinenet', num_classes=5).tasks == ('segmentation', 'depth')


def test_align_corners_changes_the_decoder_upsampling():
    torch.manual_seed(0)
    decoder = build_model('mbv2_lwrefinenet', num_classes=3).decoder.eval()
    taps = [torch.randn(1, width, 96 // stride, 128 // stride)
            for width, stride in zip([24, 32, 64, 96, 160, 320], [4, 8, 16, 16, 32, 32])]
    with torch.no_grad():
        before = decoder(taps)
        decoder.align_corners = True
        after = decoder(taps)
    assert (before - after).abs().max() > 0.01 * before.abs().max()
