# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Inference engines behind the Predictor's contract: PyTorch, and ONNX Runtime.

ONNX Runtime runs an exported graph. This file imports nothing heavy; pick an engine with
:func:`.factory.load_predictor`.
"""

#: Accepted values of every ``backend`` option (``auto``: ONNX Runtime when installed).
BACKENDS = ('auto', 'torch', 'onnxruntime')
#: ``--backend`` help of the command-line tools.
BACKEND_HELP = ('inference engine: auto (ONNX Runtime when installed), torch or onnxruntime '
                '(a .pt model is exported to ONNX on first use and cached; default: '
                '%(default)s)')
