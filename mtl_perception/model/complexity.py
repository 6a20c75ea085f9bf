# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Parameter and multiply-add counts, measured by running the network once."""

from __future__ import annotations

import torch
from torch import nn


def count_parameters(model: nn.Module) -> int:
    """Count the learnable parameters."""
    return sum(parameter.numel() for parameter in model.parameters())


@torch.inference_mode()
def count_multiply_adds(model: nn.Module, height: int, width: int) -> dict[str, int]:
    """Multiply-adds of one ``1 x 3 x height x width`` forward pass, by operation kind.

    Returns:
        ``{"convolution": ..., "max_pool": ...}``: convolution multiply-accumulates (the usual
        "MACs"/"GMAdds" of mobile-network papers) and max-pool window comparisons.
    """
    totals = {'convolution': 0, 'max_pool': 0}

    def count_convolution(module: nn.Conv2d, _: tuple, output: torch.Tensor) -> None:
        kernel = module.kernel_size[0] * module.kernel_size[1]
        totals['convolution'] += output.numel() * kernel * module.in_channels // module.groups

    def count_max_pool(module: nn.MaxPool2d, _: tuple, output: torch.Tensor) -> None:
        size = module.kernel_size
        kernel = size * size if isinstance(size, int) else size[0] * size[1]
        totals['max_pool'] += output.numel() * kernel

    handles = []
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            handles.append(module.register_forward_hook(count_convolution))
        elif isinstance(module, nn.MaxPool2d):
            handles.append(module.register_forward_hook(count_max_pool))
    try:
        device = next(model.parameters()).device
        model.eval()(torch.zeros(1, 3, height, width, device=device))
    finally:
        for handle in handles:
            handle.remove()
    return totals
