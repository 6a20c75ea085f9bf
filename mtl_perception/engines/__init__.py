"""Inference engines behind the Predictor's contract: PyTorch, and ONNX Runtime on an exported
graph. This file imports nothing heavy; pick an engine with :func:`.factory.load_predictor`.
"""

#: Accepted values of every ``backend`` option (``auto``: ONNX Runtime when installed).
BACKENDS = ('auto', 'torch', 'onnxruntime')
