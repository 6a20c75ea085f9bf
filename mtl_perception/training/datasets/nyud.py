# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""NYUDv2 in the DenseTorch / hydranets layout.

``root/train_list_depth.txt`` lists one sample per line, tab-separated and relative to
``root``: ``rgb/000001.png<TAB>masks/000001.png<TAB>depth/000001.png``. Masks hold NYU-40
ids minus one (0..39) and 255 for unlabelled; depth PNGs are uint16 metres x 5000, 0 for
invalid. A missing annotation column (or ``-``) makes a labels-only or depth-only sample.
An optional fourth column names surface-normals ground truth (``normals/000001.png``: RGB =
``(n + 1) / 2 * 255`` in the camera optical frame, x right, y down, z forward; black =
invalid) for training a three-task model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mtl_perception.errors import DatasetError
from mtl_perception.formats.images import read_depth, read_mask, read_normals, read_rgb
from mtl_perception.labels import IGNORE_ID
from mtl_perception.training.datasets.sample import make_sample, Sample
import numpy as np
from torch.utils.data import Dataset

DEPTH_SCALE = 5000.0
LAYOUT = ('expected ROOT/<list> with lines "rgb/x.png<TAB>masks/x.png<TAB>depth/x.png" '
          '[<TAB>normals/x.png] (paths relative to ROOT)')


class NyudDataset(Dataset):
    """Samples listed in a NYUDv2 list file.

    Args:
        root: Dataset folder.
        list_file: List file name inside ``root`` (``train_list_depth.txt``,
            ``val_list_depth.txt``) or an absolute path.
        num_classes: Label ids at or above this (other than 255) are an error.
        depth_scale: Depth PNG value per metre (5000 for NYUDv2; 256 for distilled outdoor
            data, whose depths would overflow uint16 at 5000).
        transform: Joint transform applied to each sample.

    Raises:
        DatasetError: Missing list file, malformed line or an empty list.
    """

    def __init__(self, root: str | Path, list_file: str | Path = 'train_list_depth.txt', *,
                 num_classes: int = 40, depth_scale: float = DEPTH_SCALE,
                 transform: Callable[[Sample], Sample] | None = None) -> None:
        self.root = Path(root)
        self.depth_scale = depth_scale
        self.list_path = self.root / list_file
        self.num_classes = num_classes
        self.transform = transform
        self.entries = self._read_list()

    def _read_list(self) -> list[tuple[Path, Path | None, Path | None, Path | None]]:
        if not self.list_path.is_file():
            raise DatasetError(f'NYUDv2 list file {self.list_path} not found; {LAYOUT}')
        entries = []
        for number, line in enumerate(self.list_path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            columns = line.rstrip('\n').split('\t')
            if len(columns) > 4 or not columns[0]:
                raise DatasetError(f'{self.list_path}:{number}: malformed line {line!r}; '
                                   f'{LAYOUT}')
            columns += ['-'] * (4 - len(columns))
            entries.append(tuple(None if c in ('', '-') else self.root / c for c in columns))
        if not entries:
            raise DatasetError(f'{self.list_path} lists no samples; {LAYOUT}')
        return entries

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> Sample:
        rgb_path, masks_path, depth_path, normals_path = self.entries[index]
        rgb = read_rgb(rgb_path)
        labels = read_mask(masks_path) if masks_path else None
        depth = read_depth(depth_path, self.depth_scale) if depth_path else None
        normals = read_normals(normals_path) if normals_path else None
        for name, annotation, path in (('mask', labels, masks_path),
                                       ('depth', depth, depth_path),
                                       ('normals', normals, normals_path)):
            if annotation is not None and annotation.shape[:2] != rgb.shape[:2]:
                raise DatasetError(f'{path}: {name} is {annotation.shape[1]}x'
                                   f'{annotation.shape[0]} but {rgb_path} is '
                                   f'{rgb.shape[1]}x{rgb.shape[0]}')
        if labels is not None:
            bad = (labels >= self.num_classes) & (labels != IGNORE_ID)
            if bad.any():
                raise DatasetError(f'{masks_path}: class id {int(labels[bad].max())} outside '
                                   f'0..{self.num_classes - 1} (and {IGNORE_ID} = ignore)')
        sample = make_sample(rgb, labels, None if depth is None else np.where(
            depth > 0, depth, 0).astype(np.float32), normals)
        return self.transform(sample) if self.transform else sample
