# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Foreign checkpoints built from the published architecture facts, and a reference forward.

Nothing here uses the package: the state dicts are written key by key from the facts of the
paper's release (``Net``) and the hydranets course (``Sequential(encoder, decoder)``), and
:func:`release_forward` / :func:`hydranets_forward` run them with ``torch.nn.functional``
alone, so that the importer and the network are checked against an independent reading.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

#: MobileNetV2 as both layouts write it: (expansion, width, repeats, stride) per layer2..8.
MOBILENET = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
             (6, 160, 3, 2), (6, 320, 1, 1))
TAP_WIDTHS = (24, 32, 64, 96, 160, 320)


class _Weights:
    """Random but well-scaled tensors, with BatchNorm statistics that are not identities."""

    def __init__(self, seed: int) -> None:
        self.generator = torch.Generator().manual_seed(seed)
        self.state: dict[str, torch.Tensor] = {}

    def _random(self, *shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=self.generator)

    def conv(self, key: str, out: int, into: int, kernel: int, bias: bool = False) -> None:
        # 0.6 x He: a random network at He's gain is on the edge of chaos and amplifies float
        # rounding ~1e4-fold through its depth, which trained networks do not
        fan_in = into * kernel * kernel
        scale = 0.6 * (2 / fan_in) ** .5
        self.state[f'{key}.weight'] = self._random(out, into, kernel, kernel) * scale
        if bias:
            self.state[f'{key}.bias'] = self._random(out) * 0.1

    def batch_norm(self, key: str, width: int, counter: bool) -> None:
        self.state[f'{key}.weight'] = 1 + 0.1 * self._random(width)
        self.state[f'{key}.bias'] = 0.1 * self._random(width)
        self.state[f'{key}.running_mean'] = 0.1 * self._random(width)
        self.state[f'{key}.running_var'] = 0.5 + torch.rand(width, generator=self.generator)
        if counter:
            self.state[f'{key}.num_batches_tracked'] = torch.tensor(1000)

    def conv_bn(self, key: str, out: int, into: int, kernel: int, counter: bool,
                groups: int = 1) -> None:
        self.conv(f'{key}.0', out, into // groups, kernel)
        self.batch_norm(f'{key}.1', out, counter)


def _encoder(weights: _Weights, prefix: str, counter: bool) -> None:
    weights.conv_bn(f'{prefix}layer1', 32, 3, 3, counter)
    width = 32
    for layer, (expansion, out, repeats, _) in enumerate(MOBILENET, start=2):
        for index in range(repeats):
            hidden = width * expansion
            block = f'{prefix}layer{layer}.{index}.output'
            weights.conv_bn(f'{block}.0', hidden, width, 1, counter)
            weights.conv_bn(f'{block}.1', hidden, hidden, 3, counter, groups=hidden)
            weights.conv_bn(f'{block}.2', out, hidden, 1, counter)
            width = out


def _crp(weights: _Weights, prefix: str, depthwise: bool) -> None:
    for stage in range(1, 5):
        weights.conv(f'{prefix}.0.{stage}_outvar_dimred', 256, 1 if depthwise else 256, 1)


def _head(weights: _Weights, pre: str, out_key: str, width: int) -> None:
    weights.conv(pre, 256, 1, 1)
    weights.conv(out_key, width, 256, 3, bias=True)


def release_state_dict(num_classes: int, *, normals: bool = False, seed: int = 0,
                       counter: bool = True) -> dict[str, torch.Tensor]:
    """Build a ``Net(num_classes, num_tasks)`` state dict of the paper's release.

    ``counter=False`` leaves out BatchNorm's ``num_batches_tracked``, as PyTorch 0.4.0 did.
    """
    weights = _Weights(seed)
    _encoder(weights, '', counter)
    for index, width in enumerate(TAP_WIDTHS, start=3):
        weights.conv(f'conv{index}', 256, width, 1)
    for level in (4, 3, 2, 1):
        _crp(weights, f'crp{level}', depthwise=level == 1)
    for level in (4, 3, 2):
        weights.conv(f'conv_adapt{level}', 256, 256, 1)
    _head(weights, 'pre_segm', 'segm', num_classes)
    _head(weights, 'pre_depth', 'depth', 1)
    if normals:
        _head(weights, 'pre_normal', 'normal', 3)
    return weights.state


def hydranets_state_dict(head_widths: tuple[int, ...], *, seed: int = 0
                         ) -> dict[str, torch.Tensor]:
    """Build the state dict of the course's ``DataParallel(Sequential(encoder, decoder))``."""
    weights = _Weights(seed)
    _encoder(weights, 'module.0.', True)
    for index, width in enumerate(reversed(TAP_WIDTHS)):
        weights.conv(f'module.1.stem_convs.{index}', 256, width, 1)
    for index in range(4):
        _crp(weights, f'module.1.crp_blocks.{index}', depthwise=index == 3)
    for index in range(3):
        weights.conv(f'module.1.adapt_convs.{index}', 256, 256, 1)
    for index, width in enumerate(head_widths):
        _head(weights, f'module.1.heads.{index}.0', f'module.1.heads.{index}.2', width)
    return weights.state


def _conv(x: torch.Tensor, state: dict, key: str, stride: int = 1) -> torch.Tensor:
    weight = state[f'{key}.weight']
    groups = x.shape[1] // weight.shape[1]
    return F.conv2d(x, weight, state.get(f'{key}.bias'), stride, weight.shape[-1] // 2,
                    groups=groups)


def _conv_bn(x: torch.Tensor, state: dict, key: str, stride: int = 1,
             relu: bool = True) -> torch.Tensor:
    x = _conv(x, state, f'{key}.0', stride)
    x = F.batch_norm(x, state[f'{key}.1.running_mean'], state[f'{key}.1.running_var'],
                     state[f'{key}.1.weight'], state[f'{key}.1.bias'], False, 0.0, 1e-5)
    return F.relu6(x) if relu else x


def _mobilenet_taps(x: torch.Tensor, state: dict, prefix: str) -> list[torch.Tensor]:
    """Run the encoder; return the outputs of layer3 .. layer8 (strides 4 .. 32)."""
    x = _conv_bn(x, state, f'{prefix}layer1', stride=2)
    taps = []
    for layer, (_, _, repeats, stride) in enumerate(MOBILENET, start=2):
        for index in range(repeats):
            block = f'{prefix}layer{layer}.{index}.output'
            step = stride if index == 0 else 1
            y = _conv_bn(x, state, f'{block}.0')
            y = _conv_bn(y, state, f'{block}.1', stride=step)
            y = _conv_bn(y, state, f'{block}.2', relu=False)
            x = x + y if step == 1 and x.shape == y.shape else y
        taps.append(x)
    return taps[1:]


def _crp_forward(x: torch.Tensor, state: dict, key: str) -> torch.Tensor:
    top = x
    for stage in range(1, 5):
        top = _conv(F.max_pool2d(top, 5, 1, 2), state, f'{key}.0.{stage}_outvar_dimred')
        x = x + top
    return x


def _up(x: torch.Tensor, like: torch.Tensor, align_corners: bool) -> torch.Tensor:
    return F.interpolate(x, size=like.shape[-2:], mode='bilinear', align_corners=align_corners)


def _head_forward(x: torch.Tensor, state: dict, pre: str, out: str) -> torch.Tensor:
    return _conv(F.relu6(_conv(x, state, pre)), state, out)


@torch.no_grad()
def release_forward(state: dict, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Run the release ``Net.forward``: raw (segmentation, depth[, normals]) at stride 4."""
    l3, l4, l5, l6, l7, l8 = _mobilenet_taps(image, state, '')
    x = F.relu6(_conv(l8, state, 'conv8') + _conv(l7, state, 'conv7'))
    x = _up(_conv(_crp_forward(x, state, 'crp4'), state, 'conv_adapt4'), l6, False)
    x = F.relu6(_conv(l5, state, 'conv5') + _conv(l6, state, 'conv6') + x)
    x = _up(_conv(_crp_forward(x, state, 'crp3'), state, 'conv_adapt3'), l4, False)
    x = F.relu6(_conv(l4, state, 'conv4') + x)
    x = _up(_conv(_crp_forward(x, state, 'crp2'), state, 'conv_adapt2'), l3, False)
    x = _crp_forward(F.relu6(_conv(l3, state, 'conv3') + x), state, 'crp1')
    outputs = [_head_forward(x, state, 'pre_segm', 'segm'),
               _head_forward(x, state, 'pre_depth', 'depth')]
    if 'normal.weight' in state:
        outputs.append(_head_forward(x, state, 'pre_normal', 'normal'))
    return tuple(outputs)


@torch.no_grad()
def hydranets_forward(state: dict, image: torch.Tensor) -> list[torch.Tensor]:
    """Run the course's ``Sequential(encoder, decoder)``: raw head outputs, in head order."""
    taps = list(reversed(_mobilenet_taps(image, state, 'module.0.')))
    projected = [_conv(tap, state, f'module.1.stem_convs.{i}') for i, tap in enumerate(taps)]
    levels = [projected[0] + projected[1], projected[2] + projected[3], projected[4],
              projected[5]]
    y = None
    for index, level in enumerate(levels):
        y = F.relu6(level if y is None else level + y)
        y = _crp_forward(y, state, f'module.1.crp_blocks.{index}')
        if index < 3:
            y = _up(_conv(y, state, f'module.1.adapt_convs.{index}'), levels[index + 1], True)
    heads = sorted({int(key.split('.')[3]) for key in state if key.startswith('module.1.heads.')})
    return [_head_forward(y, state, f'module.1.heads.{i}.0', f'module.1.heads.{i}.2')
            for i in heads]
