# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Training configuration: built-in defaults, a YAML file over them, ``--set`` overrides last.

Unknown keys are errors (a typo must not silently train with a default), except inside the
free-form ``model.arch_kwargs``, which ``build_model`` checks against the builder's options.
The resolved configuration is written next to the run so that every checkpoint can be
reproduced.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from mtl_perception.training.errors import TrainingConfigError
import yaml

DEFAULTS: dict[str, Any] = {
    'model': {
        'arch': 'mbv2_lwrefinenet',
        'class_set': 'synthetic',
        'backbone_weights': None,
        'init_checkpoint': None,
        'arch_kwargs': {},
    },
    'data': {
        'train': [{'type': 'synthetic', 'seeds': [0, 1000]}],
        'val': [{'type': 'synthetic', 'seeds': [1_000_000, 1_000_050]}],
        'input_size': [96, 320],
        'base_size': [96, 320],
        'crop_size': None,
        'scale': [0.8, 1.25],
        'colour_jitter': True,
        'blur_and_jpeg': False,
        'depth_range': [0.5, 80.0],
        'workers': 'auto',
    },
    'train': {
        'epochs': 10,
        'batch_size': 8,
        'optimizer': 'adam',
        'decoder_lr': 1e-3,
        'encoder_lr_ratio': 0.1,
        'weight_decay': 1e-5,
        'warmup_steps': 100,
        'segmentation_weight': 1.0,
        'segmentation_loss': 'cross_entropy',
        'depth_weight': 1.0,
        'normals_weight': 1.0,
        'log_depth': False,
        'amp': True,
        'channels_last': True,
        'seed': 0,
        'log_every': 20,
        'val_every': 1,
        'max_steps_per_epoch': None,
        'device': 'auto',
    },
}


def _merge(base: dict[str, Any], update: dict[str, Any], where: str) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in update.items():
        if key not in base:
            raise TrainingConfigError(
                f'unknown configuration key {where}{key!r}; known keys: {sorted(base)}')
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise TrainingConfigError(f'{where}{key!r} must be a mapping, got {value!r}')
            free_form = not base[key]
            merged[key] = ({**base[key], **value} if free_form
                           else _merge(base[key], value, f'{where}{key}.'))
        else:
            merged[key] = value
    return merged


def parse_override(text: str) -> dict[str, Any]:
    """Turn ``"train.epochs=5"`` into ``{"train": {"epochs": 5}}`` (value parsed as YAML)."""
    if '=' not in text:
        raise TrainingConfigError(f'override {text!r} must look like section.key=value')
    dotted, raw = text.split('=', 1)
    value: Any = yaml.safe_load(raw)
    for key in reversed(dotted.strip().split('.')):
        value = {key: value}
    return value


def load_config(path: str | Path | None = None, overrides: list[str] | None = None
                ) -> dict[str, Any]:
    """Resolve the configuration: defaults, then the YAML file, then each override.

    Raises:
        TrainingConfigError: Unreadable file, unknown keys, malformed overrides or image sizes.
    """
    config = copy.deepcopy(DEFAULTS)
    if path is not None:
        path = Path(path)
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as error:
            raise TrainingConfigError(f'cannot read configuration {path}: {error}') from None
        if not isinstance(loaded, dict):
            raise TrainingConfigError(f'{path}: expected a mapping at the top level')
        config = _merge(config, loaded, '')
    for override in overrides or []:
        config = _merge(config, parse_override(override), '')
    _check_sizes(config['data'])
    return config


# The encoder halves the resolution five times; smaller sides leave nothing to convolve.
MIN_SIDE = 32


def _check_sizes(data: dict[str, Any]) -> None:
    """Refuse image sizes that are not ``[height, width]`` of whole numbers >= ``MIN_SIDE``."""
    for key in ('input_size', 'base_size', 'crop_size'):
        value = data[key]
        if value is None and key != 'input_size':
            continue
        valid = (isinstance(value, (list, tuple)) and len(value) == 2
                 and all(isinstance(v, int) and not isinstance(v, bool) and v >= MIN_SIDE
                         for v in value))
        if not valid:
            raise TrainingConfigError(
                f'data.{key} must be [height, width] in whole pixels, each at least '
                f'{MIN_SIDE}, got {value!r}')


def with_data_root(config: dict[str, Any], root: str | Path) -> dict[str, Any]:
    """Return ``config`` with every dataset that has a ``root`` read from ``root`` instead.

    Raises:
        TrainingConfigError: If no dataset of the configuration has a root to replace.
    """
    config = copy.deepcopy(config)
    specs = config['data']['train'] + config['data']['val']
    rooted = [spec for spec in specs if 'root' in spec]
    if not rooted:
        raise TrainingConfigError(
            f'--data-root: no dataset of this configuration reads from a root folder (its '
            f'datasets: {", ".join(sorted({str(s.get("type")) for s in specs}))})')
    for spec in rooted:
        spec['root'] = str(root)
    return config


def save_config(config: dict[str, Any], path: Path) -> None:
    """Write the resolved configuration as YAML."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
