# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The public inference API: one import for applications and notebooks.

``Predictor`` is the PyTorch engine; :func:`load_engine` gives the best engine for a
checkpoint or an exported graph. Both keep the contract of :mod:`.engines.contract`. The
package's own modules import from :mod:`.engines` directly.
"""

from mtl_perception.engines.contract import DevicePrediction, Engine, Prediction
from mtl_perception.engines.loading import load_engine
from mtl_perception.engines.torch_engine import Predictor, resolve_device

__all__ = ['DevicePrediction', 'Engine', 'load_engine', 'Prediction', 'Predictor',
           'resolve_device']
