# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Where a training run's weights start: ImageNet encoder, a checkpoint of ours, or random.

``model.backbone_weights`` names an ImageNet MobileNetV2 file, or ``auto`` for torchvision's
own cache file when the machine has one (``$TORCH_HOME/hub/checkpoints``; nothing is
downloaded). Without one, ``model.init_checkpoint`` (a ``.pt`` path, or ``default`` for the
shipped weights) copies every tensor whose name and shape fit; the rest (a segmentation head
of another class count, say) starts random, and the log and the checkpoint say which.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mtl_perception.checkpoint import load_checkpoint
from mtl_perception.default_model import default_model_path
from mtl_perception.importers.backbone import load_imagenet_encoder
from mtl_perception.training.errors import TrainingConfigError
import torch
from torch import nn

LOGGER = logging.getLogger(__name__)
TORCHVISION_FILES = ('mobilenet_v2-b0353104.pth', 'mobilenet_v2-7ebf99e0.pth')


def find_torchvision_file() -> Path | None:
    """Return torchvision's cached ImageNet ``mobilenet_v2`` file, if this machine has one."""
    folder = Path(torch.hub.get_dir()) / 'checkpoints'
    return next((folder / name for name in TORCHVISION_FILES if (folder / name).is_file()), None)


def copy_fitting(model: nn.Module, path: Path) -> list[str]:
    """Copy the tensors of checkpoint ``path`` that fit ``model``; return the keys that did not.

    Raises:
        TrainingConfigError: Nothing fits (another architecture).
    """
    source = load_checkpoint(path).model.state_dict()
    ours = model.state_dict()
    fitting = {k: v for k, v in source.items() if k in ours and ours[k].shape == v.shape}
    if not fitting:
        raise TrainingConfigError(f'model.init_checkpoint {path}: none of its weights fit this '
                                  'model (another architecture or options)')
    model.load_state_dict({**ours, **fitting})
    return sorted(set(ours) - set(fitting))


def initialise(model: nn.Module, config: dict[str, Any]) -> str:
    """Set the starting weights of ``model`` from ``config['model']``; return what was done.

    Raises:
        ModelConfigError: An ImageNet file that does not fit (see ``load_imagenet_encoder``).
        CheckpointError / TrainingConfigError: An unusable ``init_checkpoint``.
    """
    backbone = config['backbone_weights']
    if backbone == 'auto':
        backbone = find_torchvision_file()
    if backbone:
        load_imagenet_encoder(model.encoder, backbone)
        return f'encoder from ImageNet weights {backbone}'
    start = config['init_checkpoint']
    if not start:
        return 'random weights'
    path = default_model_path() if start == 'default' else Path(start)
    fresh = copy_fitting(model, path)
    heads = sorted({key.rsplit('.', 1)[0] for key in fresh})
    return f'weights of {path}' + (f' (random: {", ".join(heads)})' if fresh else '')
