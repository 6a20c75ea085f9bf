# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Turn a foreign checkpoint into a checkpoint of this project (metadata included)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from mtl_perception.checkpoint import file_sha256, ModelMetadata, save_checkpoint
from mtl_perception.errors import CheckpointImportError
from mtl_perception.importers import hydranets, release
from mtl_perception.importers.domains import Domain, resolve_domain
from mtl_perception.importers.foreign import ForeignModel
from mtl_perception.importers.mapping import map_state
from mtl_perception.importers.mobilenet import is_release_encoder
from mtl_perception.importers.reading import load_untrusted, unwrap_state_dict
from mtl_perception.model import build_model
import torch
from torch import nn

ARCH = 'mbv2_lwrefinenet'
LAYOUTS: tuple[ModuleType, ...] = (release, hydranets)


def detect_layout(state: dict[str, torch.Tensor], source: Path) -> ModuleType:
    """Return the importer module whose layout ``state`` has.

    Raises:
        CheckpointImportError: No layout matches; says what the file looks like instead.
    """
    for layout in LAYOUTS:
        if layout.matches(state):
            return layout
    if is_release_encoder(state):
        raise CheckpointImportError(
            f'{source}: an encoder-only ImageNet file (layer1..layer8, no decoder or heads); '
            'it initialises training instead: model.backbone_weights with '
            'model.arch_kwargs.first_block_expansion: true')
    keys = sorted(state)[:3]
    raise CheckpointImportError(
        f"{source}: not a known layout (the paper's release or the hydranets course); its "
        f'first keys are {keys}')


def import_checkpoint(source: Path, output: Path, *, domain: str | None = None,
                      input_size: tuple[int, int] | None = None,
                      head_order: list[str] | None = None, command: str = '') -> ModelMetadata:
    """Import ``source`` and write it as a checkpoint of this project to ``output``.

    The output is written atomically and only after the weights have loaded strictly into the
    network they describe, so a failure never leaves a file behind.

    Args:
        source: The foreign file (release ``*.ckpt`` or hydranets ``checkpoint.pth.tar``).
        output: The checkpoint to write.
        domain: ``nyud`` or ``kitti``; required for the 46-class joint model.
        input_size: ``(height, width)`` the model runs at; default: the domain's frame size.
        head_order: Task of each hydranets head, when its widths leave doubt.
        command: The command line, recorded as provenance.

    Returns:
        The metadata written.

    Raises:
        CheckpointImportError: Anything that keeps the file from importing, with the reason.
    """
    source, output = Path(source), Path(output)
    if output.exists() and output.resolve() == source.resolve():
        raise CheckpointImportError(f'{output}: the output would overwrite the source')
    state = unwrap_state_dict(load_untrusted(source), source)
    foreign = detect_layout(state, source).describe(state, head_order=head_order,
                                                    source=str(source))
    target, rows = resolve_domain(foreign.num_classes, domain, str(source))
    model = _load_weights(foreign, state, target, rows, source)
    metadata = _metadata(foreign, target, input_size or target.input_size, source, command)
    save_checkpoint(output, model, metadata)
    return metadata


def _load_weights(foreign: ForeignModel, state: dict[str, torch.Tensor], target: Domain,
                  rows: slice | None, source: Path) -> nn.Module:
    """Build our network for ``foreign`` and move every weight into it, strictly."""
    model = build_model(ARCH, num_classes=target.classes.num_classes, **foreign.arch_kwargs)
    mapped = map_state(state, list(model.state_dict()), foreign.prefixes)
    if mapped.missing or mapped.unexpected:
        raise CheckpointImportError(
            f'{source}: a {foreign.layout} checkpoint with gaps: {mapped.problems()}')
    weights = mapped.state
    if rows is not None:
        for key in ('segmentation_head.out.weight', 'segmentation_head.out.bias'):
            weights[key] = weights[key][rows]
    damaged = [key for key, value in weights.items()
               if value.is_floating_point() and not torch.isfinite(value).all()]
    if damaged:
        raise CheckpointImportError(
            f'{source}: NaN or infinite weights in {damaged[:3]}: the file is damaged')
    expected = model.state_dict()
    wrong = [f'{key}: file {tuple(value.shape)} vs network {tuple(expected[key].shape)}'
             for key, value in weights.items() if value.shape != expected[key].shape]
    if wrong:
        raise CheckpointImportError(
            f'{source}: weight shapes do not fit a {foreign.layout} network: '
            + '; '.join(wrong[:3]))
    model.load_state_dict({key: value.to(expected[key].dtype) for key, value in weights.items()},
                          strict=True)
    return model.eval()


def _metadata(foreign: ForeignModel, target: Domain, input_size: tuple[int, int],
              source: Path, command: str) -> ModelMetadata:
    classes = target.classes
    metrics = {}
    if foreign.layout == release.NAME and not foreign.normals:
        metrics['reported_by_authors'] = {
            **target.paper, 'note': 'figures of the paper for the released two-task model; '
                                    'not measured by mtl_perception'}
    return ModelMetadata(
        arch=ARCH, arch_kwargs=dict(foreign.arch_kwargs), num_classes=classes.num_classes,
        class_names=classes.names, palette=classes.colours, input_size=tuple(input_size),
        depth_range=target.depth_range, dataset=target.name, metrics=metrics,
        created_by={'command': command, 'importer': foreign.layout,
                    'source': {'file': source.name, 'sha256': file_sha256(source)}})
