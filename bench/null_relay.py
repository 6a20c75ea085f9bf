# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""perception_node with the network replaced by a constant prediction: the middleware's cost.

Run as ``python bench/null_relay.py --ros-args -p model:=PATH ...``: the node's whole path
(subscription, newest-frame slot, decoding, the four output messages, publishing, DDS) runs as
usual, but ``infer`` returns one prediction made once, by the real network, for the frame size
it first sees. The closed-loop frame time of this node is what DDS and the node's plumbing
cost, measured rather than guessed.
"""

from __future__ import annotations

import sys

from mtl_perception.engines.contract import DevicePrediction, Engine
from mtl_perception.ros.entry import run
from mtl_perception.ros.node import PerceptionNode
import numpy as np


class ConstantPredictor:
    """Wraps a real predictor; predicts each frame size once, then returns that result."""

    backend = 'null relay'

    def __init__(self, real: Engine) -> None:
        self.real = real
        self.provider = f'constant output of {real.backend}'
        self._cached: dict[tuple[int, ...], DevicePrediction] = {}

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)

    def infer(self, image: np.ndarray, *, bgr: bool = False) -> DevicePrediction:
        """Return the real prediction of the first frame of this size."""
        key = image.shape
        if key not in self._cached:
            self._cached[key] = self.real.infer(image, bgr=bgr)
        return self._cached[key]


class NullRelayNode(PerceptionNode):
    """The perception node around a :class:`ConstantPredictor`."""

    def _load_engine(self) -> ConstantPredictor:
        return ConstantPredictor(super()._load_engine())


if __name__ == '__main__':
    sys.exit(run(lambda: NullRelayNode, None))
