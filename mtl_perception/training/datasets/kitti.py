# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""KITTI: raw drives with depth-benchmark ground truth, and KITTI semantics.

Depth (sparse LiDAR ground truth of the depth benchmark)::

    DEPTH_ROOT/<split>/<date>_drive_<NNNN>_sync/proj_depth/groundtruth/image_0<C>/<frame>.png
    RAW_ROOT/<date>/<date>_drive_<NNNN>_sync/image_0<C>/data/<frame>.png

uint16 PNGs with metres = value / 256 and 0 = no measurement. Semantics::

    ROOT/training/image_2/<name>.png   ROOT/training/semantic/<name>.png

with Cityscapes label ids, mapped to the training class set by class name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mtl_perception.errors import DatasetError
from mtl_perception.formats.images import KITTI_DEPTH_SCALE, read_depth, read_mask, read_rgb
from mtl_perception.labels import cityscapes_lookup, ClassSet
from mtl_perception.training.datasets.sample import make_sample, Sample
from torch.utils.data import Dataset

DEPTH_SCALE = KITTI_DEPTH_SCALE


def _check_same_size(image_path: Path, image_shape: tuple[int, ...], other_path: Path,
                     other_shape: tuple[int, ...]) -> None:
    if image_shape[:2] != other_shape[:2]:
        raise DatasetError(f'{other_path} is {other_shape[1]}x{other_shape[0]} but '
                           f'{image_path} is {image_shape[1]}x{image_shape[0]}')


class KittiDepthDataset(Dataset):
    """Depth-only samples: raw camera images with the depth benchmark's ground truth.

    Args:
        raw_root: Folder holding the raw ``<date>/<drive>`` folders.
        depth_root: Folder holding the depth benchmark's ``<split>/<drive>`` folders.
        split: ``train`` or ``val``.
        camera: 2 (left colour) or 3 (right colour).
        transform: Joint transform applied to each sample.

    Raises:
        DatasetError: No ground truth found, or a ground-truth frame without its raw image.
    """

    def __init__(self, raw_root: str | Path, depth_root: str | Path, *, split: str = 'train',
                 camera: int = 2, transform: Callable[[Sample], Sample] | None = None) -> None:
        self.raw_root, self.depth_root = Path(raw_root), Path(depth_root)
        self.transform = transform
        pattern = f'*_sync/proj_depth/groundtruth/image_0{camera}/*.png'
        self.depth_paths = sorted((self.depth_root / split).glob(pattern))
        if not self.depth_paths:
            raise DatasetError(
                f'no KITTI depth ground truth under {self.depth_root / split}; expected '
                f'{split}/<date>_drive_<NNNN>_sync/proj_depth/groundtruth/image_0{camera}/*.png')
        self.image_paths = [self._raw_image(path, camera) for path in self.depth_paths]

    def _raw_image(self, depth_path: Path, camera: int) -> Path:
        drive = depth_path.parents[3].name
        image = (self.raw_root / drive[:10] / drive / f'image_0{camera}' / 'data'
                 / depth_path.name)
        if not image.is_file():
            raise DatasetError(f'raw image {image} for ground truth {depth_path} not found; '
                               'expected RAW_ROOT/<date>/<drive>/image_0N/data/<frame>.png')
        return image

    def __len__(self) -> int:
        return len(self.depth_paths)

    def __getitem__(self, index: int) -> Sample:
        rgb = read_rgb(self.image_paths[index])
        depth = read_depth(self.depth_paths[index], DEPTH_SCALE)
        _check_same_size(self.image_paths[index], rgb.shape, self.depth_paths[index],
                         depth.shape)
        sample = make_sample(rgb, None, depth)
        return self.transform(sample) if self.transform else sample


class KittiSemanticsDataset(Dataset):
    """Labels-only samples of KITTI semantics, mapped to ``class_set`` by class name.

    Raises:
        DatasetError: No images found, or an image without its label file.
    """

    def __init__(self, root: str | Path, class_set: ClassSet, *,
                 transform: Callable[[Sample], Sample] | None = None) -> None:
        self.root = Path(root)
        self.lookup = cityscapes_lookup(class_set)
        self.transform = transform
        self.image_paths = sorted((self.root / 'training' / 'image_2').glob('*.png'))
        if not self.image_paths:
            raise DatasetError(f'no KITTI semantics images under {self.root}; expected '
                               'ROOT/training/image_2/*.png and ROOT/training/semantic/*.png')
        self.label_paths = [self.root / 'training' / 'semantic' / p.name
                            for p in self.image_paths]
        for image, labels in zip(self.image_paths, self.label_paths):
            if not labels.is_file():
                raise DatasetError(f'label file {labels} for {image} not found')

    def __len__(self) -> int:
        return len(self.image_paths)

    def __getitem__(self, index: int) -> Sample:
        rgb = read_rgb(self.image_paths[index])
        label_ids = read_mask(self.label_paths[index])
        _check_same_size(self.image_paths[index], rgb.shape, self.label_paths[index],
                         label_ids.shape)
        sample = make_sample(rgb, self.lookup[label_ids], None)
        return self.transform(sample) if self.transform else sample
