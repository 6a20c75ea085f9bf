# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Turn a foreign checkpoint into a checkpoint of this project (metadata included)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from mtl_perception.checkpoint import ModelMetadata, save_checkpoint
from mtl_perception.errors import CheckpointError, CheckpointImportError
from mtl_perception.importers import enc_dec, hydranets, release
from mtl_perception.importers.domains import Domain, resolve_domain
from mtl_perception.importers.foreign import ForeignModel
from mtl_perception.importers.mapping import map_state
from mtl_perception.importers.mobilenet import is_release_encoder
from mtl_perception.importers.reading import load_untrusted, unwrap_state_dict
from mtl_perception.model import build_model
from mtl_perception.weights_file import (
    check_sha256, check_weight_values, file_sha256, is_legacy_format
)
import torch
from torch import nn

ARCH = 'mbv2_lwrefinenet'
LAYOUTS: tuple[ModuleType, ...] = (release, enc_dec, hydranets)


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
        f"{source}: not a known layout (the paper's release, its enc/dec split of "
        f'Multi_Task_Learning, or the hydranets course); its first keys are {keys}')


def import_checkpoint(source: Path, output: Path, *, domain: str | None = None,
                      input_size: tuple[int, int] | None = None,
                      head_order: list[str] | None = None, command: str = '',
                      sha256: str | None = None) -> ModelMetadata:
    """Import ``source`` and write it as a checkpoint of this project to ``output``.

    The output is written atomically and only after the weights have loaded strictly into the
    network they describe, so a failure never leaves a file behind.

    Args:
        source: The foreign file (release ``*.ckpt`` or hydranets ``checkpoint.pth.tar``).
        output: The checkpoint to write.
        domain: ``nyud`` or ``kitti``; required for the 46-class joint model.
        input_size: ``(height, width)`` every frame is resized to; default: none, the model
            runs at each frame's own size as its authors run it (``resize_input`` false,
            ``input_size`` recording the domain's frame size).
        head_order: Task of each hydranets head, when its widths leave doubt.
        command: The command line, recorded as provenance.
        sha256: The file's published SHA-256; checked before anything is read. The only
            integrity check for pre-1.6 files, which carry no checksum.

    Returns:
        The metadata written.

    Raises:
        CheckpointImportError: Anything that keeps the file from importing, with the reason.
    """
    source, output = Path(source), Path(output)
    if output.exists() and output.resolve() == source.resolve():
        raise CheckpointImportError(f'{output}: the output would overwrite the source')
    if sha256 is not None and source.is_file():
        try:
            check_sha256(source, sha256)
        except CheckpointError as error:
            raise CheckpointImportError(str(error)) from None
    state = unwrap_state_dict(load_untrusted(source), source)
    foreign = detect_layout(state, source).describe(state, head_order=head_order,
                                                    source=str(source))
    target, rows = resolve_domain(foreign.num_classes, domain, str(source))
    model = _load_weights(foreign, state, target, rows, source)
    metadata = _metadata(foreign, target, input_size, source, command,
                         integrity_of(source, sha256))
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
    expected = model.state_dict()
    wrong = [f'{key}: file {tuple(value.shape)} vs network {tuple(expected[key].shape)}'
             for key, value in weights.items() if value.shape != expected[key].shape]
    if wrong:
        raise CheckpointImportError(
            f'{source}: weight shapes do not fit a {foreign.layout} network: '
            + '; '.join(wrong[:3]))
    try:
        check_weight_values(weights, source)
    except CheckpointError as error:
        raise CheckpointImportError(str(error)) from None
    model.load_state_dict({key: value.to(expected[key].dtype) for key, value in weights.items()},
                          strict=True)
    return model.eval()


def integrity_of(source: Path, sha256: str | None) -> str:
    """Say how far the bytes of ``source`` were verified (recorded in the provenance)."""
    if sha256 is not None:
        return 'SHA-256 verified against the given hash'
    if is_legacy_format(source):
        return 'none: the pre-1.6 PyTorch format carries no checksum'
    return 'CRC-32 of every record of the zip container verified'


def _metadata(foreign: ForeignModel, target: Domain, input_size: tuple[int, int] | None,
              source: Path, command: str, integrity: str) -> ModelMetadata:
    classes = target.classes
    metrics = {}
    if foreign.layout == release.NAME and not foreign.normals:
        metrics['reported_by_authors'] = {
            **target.paper, 'note': 'figures of the paper for the released two-task model; '
                                    'not measured by mtl_perception'}
    return ModelMetadata(
        arch=ARCH, arch_kwargs=dict(foreign.arch_kwargs), num_classes=classes.num_classes,
        class_names=classes.names, palette=classes.colours,
        input_size=tuple(input_size or target.input_size), resize_input=input_size is not None,
        depth_range=target.depth_range, dataset=target.name, metrics=metrics,
        created_by={'command': command, 'importer': foreign.layout,
                    'source': {'file': source.name, 'sha256': file_sha256(source),
                               'integrity': integrity}})
