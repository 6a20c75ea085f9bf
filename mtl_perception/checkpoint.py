# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Checkpoint files: weights plus the metadata every consumer reads (the contract of DESIGN.md).

A checkpoint is a ``torch.save`` dictionary of plain Python values and tensors, so it loads
with ``weights_only=True``::

    {"format_version": 1, "metadata": {...}, "state_dict": {...}, "training_state": {...}?}

The node, offline tools and evaluation take class names, palette, normalisation, input size
and depth range from the metadata and nowhere else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from mtl_perception.errors import CheckpointError, ModelConfigError
from mtl_perception.labels import ClassSet, IGNORE_ID
from mtl_perception.model import available_models, build_model
from mtl_perception.safe_output import write_atomically
from mtl_perception.weights_file import check_weight_values, load_weights_only
import numpy as np
import torch
from torch import nn

FORMAT_VERSION = 1
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_REQUIRED_FIELDS = frozenset(
    ('arch', 'num_classes', 'class_names', 'palette', 'input_size', 'depth_range'))


@dataclass(frozen=True)
class ModelMetadata:
    """What a checkpoint says about the network it holds and how to feed it.

    Attributes:
        arch: Registry name of the network (see ``mtl_perception.model.available_models``).
        arch_kwargs: Extra keyword arguments of the builder.
        num_classes: Segmentation classes.
        class_names: One name per class id.
        palette: One ``(r, g, b)`` per class id.
        input_size: ``(height, width)`` the network was trained at and should be fed.
        resize_input: Frames are resized to ``input_size`` before the network (True, what
            training produces). False: the network runs at each frame's own size, as the
            authors of fully convolutional imported models run them; ``input_size`` is then
            the frame size they were imported for (warm-up, reports).
        depth_range: ``(min, max)`` metres of trustworthy depth; outside is invalid.
        mean: Per-channel mean subtracted after scaling RGB to [0, 1].
        std: Per-channel standard deviation divided by after the mean.
        dataset: Name of the training data.
        metrics: Evaluation figures, with what they were measured on.
        created_by: The command and configuration that produced the weights.
    """

    arch: str
    num_classes: int
    class_names: tuple[str, ...]
    palette: tuple[tuple[int, int, int], ...]
    input_size: tuple[int, int]
    depth_range: tuple[float, float]
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    resize_input: bool = True
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    dataset: str = 'unknown'
    metrics: dict[str, Any] = field(default_factory=dict)
    created_by: dict[str, Any] = field(default_factory=dict)

    @property
    def palette_array(self) -> np.ndarray:
        """Palette as a ``(num_classes, 3)`` uint8 array indexable by class id."""
        return np.asarray(self.palette, dtype=np.uint8).reshape(-1, 3)

    @property
    def class_set(self) -> ClassSet:
        """The checkpoint's classes and colours as a class set named after its dataset."""
        return ClassSet(self.dataset, self.class_names, self.palette)

    def to_dict(self) -> dict[str, Any]:
        """Plain-type dictionary that ``torch.load(weights_only=True)`` accepts."""
        return asdict(self)


@dataclass
class Checkpoint:
    """A loaded checkpoint: the ready network (eval mode, on the CPU) and its metadata."""

    path: Path
    model: nn.Module
    metadata: ModelMetadata
    training_state: dict[str, Any] | None


def save_checkpoint(path: str | Path, model: nn.Module, metadata: ModelMetadata, *,
                    training_state: dict[str, Any] | None = None,
                    half: bool = False) -> Path:
    """Write weights and metadata atomically: a temporary file in the same folder, then rename.

    Args:
        path: Destination file; its folder is created if needed.
        model: The network; its state dict is stored on the CPU.
        metadata: The contract the consumers read.
        training_state: Optimiser, scheduler, epoch, ... for resuming training.
        half: Store floating-point weights as float16 (half the size; loading restores float32).

    Returns:
        The destination path.
    """
    _validate_metadata(metadata, Path(path))
    state_dict = {
        key: (value.detach().cpu().half() if half and value.is_floating_point()
              else value.detach().cpu())
        for key, value in model.state_dict().items()
    }
    payload: dict[str, Any] = {
        'format_version': FORMAT_VERSION,
        'metadata': metadata.to_dict(),
        'state_dict': state_dict,
    }
    if training_state is not None:
        payload['training_state'] = training_state
    return write_atomically(Path(path), lambda stream: torch.save(payload, stream))


def load_checkpoint(path: str | Path, *, expected_num_classes: int | None = None,
                    expected_arch: str | None = None) -> Checkpoint:
    """Load, validate and instantiate a checkpoint.

    Args:
        path: The checkpoint file.
        expected_num_classes: If given, the class count the caller needs.
        expected_arch: If given, the architecture the caller needs.

    Raises:
        CheckpointError: Missing or unreadable file, not a checkpoint of this project, unknown
            format version, invalid metadata, or weights that do not fit the architecture. The
            message names the file and the problem.
    """
    path = Path(path)
    payload = _read_payload(path)
    metadata = parse_metadata(payload['metadata'], path)
    if expected_arch is not None and metadata.arch != expected_arch:
        raise CheckpointError(
            f'{path}: architecture mismatch: checkpoint holds {metadata.arch!r}, '
            f'expected {expected_arch!r}')
    if expected_num_classes is not None and metadata.num_classes != expected_num_classes:
        raise CheckpointError(
            f'{path}: class count mismatch: checkpoint has {metadata.num_classes} classes, '
            f'expected {expected_num_classes}')
    model = _instantiate(metadata, payload['state_dict'], path)
    return Checkpoint(path, model, metadata, payload.get('training_state'))


def _read_payload(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise CheckpointError(f'{path}: checkpoint file not found')
    payload = load_weights_only(path)
    if not isinstance(payload, dict) or 'format_version' not in payload:
        raise CheckpointError(
            f'{path}: not an mtl_perception checkpoint (no format_version); was it saved '
            'with mtl_perception.checkpoint.save_checkpoint?')
    version = payload['format_version']
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f'{path}: unknown checkpoint format_version {version!r}; this mtl_perception '
            f'reads version {FORMAT_VERSION}')
    for key in ('metadata', 'state_dict'):
        if not isinstance(payload.get(key), dict):
            raise CheckpointError(f'{path}: checkpoint has no {key!r} dictionary')
    return payload


def parse_metadata(raw: dict[str, Any], path: Path) -> ModelMetadata:
    """Validate a metadata dictionary (as stored in a checkpoint or an exported graph).

    Raises:
        CheckpointError: Unknown, missing or inconsistent fields; the message names ``path``.
    """
    known = {f.name for f in fields(ModelMetadata)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise CheckpointError(f'{path}: unknown metadata field(s) {unknown}')
    missing = sorted(_REQUIRED_FIELDS - set(raw))
    if missing:
        raise CheckpointError(f'{path}: metadata lacks required field(s) {missing}')
    try:
        metadata = ModelMetadata(
            arch=str(raw['arch']),
            num_classes=int(raw['num_classes']),
            class_names=tuple(str(name) for name in raw['class_names']),
            palette=tuple(tuple(int(c) for c in colour) for colour in raw['palette']),
            input_size=tuple(int(v) for v in raw['input_size']),
            depth_range=tuple(float(v) for v in raw['depth_range']),
            mean=tuple(float(v) for v in raw.get('mean', IMAGENET_MEAN)),
            std=tuple(float(v) for v in raw.get('std', IMAGENET_STD)),
            resize_input=_flag(raw.get('resize_input', True), 'resize_input'),
            arch_kwargs=dict(raw.get('arch_kwargs', {})),
            dataset=str(raw.get('dataset', 'unknown')),
            metrics=dict(raw.get('metrics', {})),
            created_by=dict(raw.get('created_by', {})),
        )
    except (TypeError, ValueError) as error:
        raise CheckpointError(f'{path}: malformed metadata: {error}') from None
    _validate_metadata(metadata, path)
    return metadata


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f'{name} must be true or false, got {value!r}')
    return value


def _validate_metadata(metadata: ModelMetadata, path: Path) -> None:
    problems = []
    if metadata.arch not in available_models():
        problems.append(f'unknown arch {metadata.arch!r} (known: {available_models()})')
    if not 1 <= metadata.num_classes <= IGNORE_ID:
        problems.append(f'num_classes must be 1..{IGNORE_ID} (class ids travel as uint8 / mono8, '
                        f'{IGNORE_ID} = ignore), got {metadata.num_classes}')
    if len(metadata.class_names) != metadata.num_classes:
        problems.append(f'{len(metadata.class_names)} class_names for '
                        f'{metadata.num_classes} classes')
    if len(metadata.palette) != metadata.num_classes or any(
            len(colour) != 3 or not all(0 <= c <= 255 for c in colour)
            for colour in metadata.palette):
        problems.append(f'palette must hold {metadata.num_classes} (r, g, b) colours in 0..255')
    if len(metadata.input_size) != 2 or min(metadata.input_size) < 1:
        problems.append(f'input_size must be (height, width) > 0, got {metadata.input_size}')
    depth_range = metadata.depth_range
    if len(depth_range) != 2 or not 0 <= depth_range[0] < depth_range[1]:
        problems.append(f'depth_range must be (min, max) with 0 <= min < max, '
                        f'got {metadata.depth_range}')
    if len(metadata.mean) != 3 or len(metadata.std) != 3 or min(metadata.std) <= 0:
        problems.append('mean and std must hold 3 values each, std > 0')
    if problems:
        raise CheckpointError(f'{path}: invalid metadata: ' + '; '.join(problems))


def _instantiate(metadata: ModelMetadata, state_dict: dict[str, torch.Tensor],
                 path: Path) -> nn.Module:
    try:
        model = build_model(metadata.arch, num_classes=metadata.num_classes,
                            **metadata.arch_kwargs)
    except ModelConfigError as error:
        raise CheckpointError(f'{path}: cannot build the network: {error}') from None
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f'{path}: weights do not fit {metadata.arch!r}: missing keys {missing[:5]}'
            f'{"..." if len(missing) > 5 else ""}, unexpected keys {unexpected[:5]}'
            f'{"..." if len(unexpected) > 5 else ""}')
    wrong_shapes = [
        f'{key}: file {tuple(state_dict[key].shape)} vs model {tuple(value.shape)}'
        for key, value in expected.items() if state_dict[key].shape != value.shape
    ]
    if wrong_shapes:
        raise CheckpointError(
            f'{path}: weight shapes do not fit {metadata.arch!r} with '
            f'{metadata.num_classes} classes: ' + '; '.join(wrong_shapes[:5]))
    check_weight_values(state_dict, path)
    model.load_state_dict(
        {key: value.to(expected[key].dtype) for key, value in state_dict.items()}, strict=True)
    return model.eval()
