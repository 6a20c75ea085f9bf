# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The multi-task network: encoder, decoder, heads and the builder registry."""

from mtl_perception.model.hydranet import available_models, build_model, HydraNet

__all__ = ['available_models', 'build_model', 'HydraNet']
