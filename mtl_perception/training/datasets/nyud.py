# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""NYUDv2 in the DenseTorch / hydranets layout.

``train_list_depth.txt`` lists one sample per line, tab-separated:
``rgb/000001.png<TAB>masks/000001.png<TAB>depth/000001.png``. The seeds keep the lists beside
the image folder (``dataset/train_list_depth.txt`` and ``dataset/nyud/rgb/...``), DenseTorch
inside it; :func:`locate` accepts both and either folder as the root. Masks hold NYU-40
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
IMAGES_FOLDER = 'nyud'
LAYOUT = ('expected a list file with lines "rgb/x.png<TAB>masks/x.png<TAB>depth/x.png" '
          '[<TAB>normals/x.png], beside or inside the folder those paths start from')


def _unique(paths: list[Path]) -> list[Path]:
    return list(dict.fromkeys(paths))


def locate(root: Path, list_file: str | Path) -> tuple[Path, Path]:
    """Find the list file and the folder its paths are relative to.

    ``root`` may be the seed's ``dataset/`` (holding ``nyud/`` and the lists) or the image
    folder itself; the list is looked for inside ``root``, inside ``root/nyud`` and beside
    ``root``. Its paths are taken relative to the first of ``root/nyud``, ``root``, the list's
    folder and ``<list's folder>/nyud`` that holds the first sample's image.

    Returns:
        ``(list path, base folder of its paths)``.

    Raises:
        DatasetError: If no list file or no base folder is found; the places tried are named.
    """
    list_file = Path(list_file)
    if list_file.is_absolute():
        candidates = [list_file]
    else:
        candidates = _unique([root / list_file, root / IMAGES_FOLDER / list_file,
                              root.parent / list_file])
    list_path = next((c for c in candidates if c.is_file()), None)
    if list_path is None:
        raise DatasetError(f'NYUDv2 list file {list_file} not found (looked for '
                           f'{", ".join(map(str, candidates))}); {LAYOUT}')
    first = next((line.split('\t')[0] for line in list_path.read_text().splitlines()
                  if line.strip()), None)
    bases = _unique([root / IMAGES_FOLDER, root, list_path.parent,
                     list_path.parent / IMAGES_FOLDER])
    if first is None:
        return list_path, bases[1]
    base = next((b for b in bases if (b / first).is_file()), None)
    if base is None:
        raise DatasetError(f'{list_path}: its first image {first} is in none of '
                           f'{", ".join(map(str, bases))}; {LAYOUT}')
    return list_path, base


class NyudDataset(Dataset):
    """Samples listed in a NYUDv2 list file.

    Args:
        root: Dataset folder: the one holding ``rgb/`` or the one holding ``nyud/``.
        list_file: List file name (``train_list_depth.txt``, ``val_list_depth.txt``), found
            as :func:`locate` says, or an absolute path.
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
        self.list_path, self.root = locate(Path(root), list_file)
        self.depth_scale = depth_scale
        self.num_classes = num_classes
        self.transform = transform
        self.entries = self._read_list()

    def _read_list(self) -> list[tuple[Path, Path | None, Path | None, Path | None]]:
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
