# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Synthetic street frames by seed, rendered on demand and optionally cached as PNG files.

The cache uses the KITTI conventions (``depth`` as uint16 metres x 256, 0 = invalid), so
cached frames open in any image viewer and a cache folder is reusable across runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from mtl_perception.formats.images import (
    depth_to_png, read_depth, read_mask, read_rgb, write_png
)
from mtl_perception.synthetic import DEFAULT_SIZE, render_frame, RENDERER_VERSION
from mtl_perception.training.datasets.sample import make_sample, Sample
from torch.utils.data import Dataset
from tqdm import tqdm

DEPTH_SCALE = 256.0


class SyntheticDataset(Dataset):
    """Frames ``render_frame(seed)`` for each seed, with labels and depth.

    Args:
        seeds: Which frames; disjoint seed ranges give disjoint train and test sets.
        size: ``(height, width)`` of the rendered frames.
        cache_dir: Folder to keep rendered frames in (``None`` renders every time); one
            subfolder per renderer version and size.
        transform: Joint transform applied to each :class:`Sample`.
    """

    def __init__(self, seeds: Sequence[int], *, size: tuple[int, int] = DEFAULT_SIZE,
                 cache_dir: str | Path | None = None,
                 transform: Callable[[Sample], Sample] | None = None) -> None:
        self.seeds = list(seeds)
        self.size = tuple(size)
        folder = f'v{RENDERER_VERSION}-{self.size[1]}x{self.size[0]}'
        self.cache_dir = Path(cache_dir) / folder if cache_dir else None
        self.transform = transform

    def __len__(self) -> int:
        return len(self.seeds)

    def _paths(self, seed: int) -> tuple[Path, Path, Path]:
        name = f'{seed:08d}.png'
        return tuple(self.cache_dir / kind / name for kind in ('rgb', 'labels', 'depth'))

    def _load(self, seed: int) -> Sample:
        if self.cache_dir is not None:
            rgb_path, labels_path, depth_path = self._paths(seed)
            if depth_path.is_file():
                return make_sample(read_rgb(rgb_path), read_mask(labels_path),
                                   read_depth(depth_path, DEPTH_SCALE))
        frame = render_frame(seed, width=self.size[1], height=self.size[0])
        if self.cache_dir is not None:
            write_png(rgb_path, frame.rgb)
            write_png(labels_path, frame.labels)
            write_png(depth_path, depth_to_png(frame.depth, DEPTH_SCALE))
        return make_sample(frame.rgb, frame.labels, frame.depth)

    def __getitem__(self, index: int) -> Sample:
        sample = self._load(self.seeds[index])
        return self.transform(sample) if self.transform else sample

    def prepare(self, progress: bool = True) -> None:
        """Render every frame not yet in the cache (with a progress bar)."""
        if self.cache_dir is None:
            return
        missing = [s for s in self.seeds if not self._paths(s)[2].is_file()]
        for seed in tqdm(missing, desc='rendering synthetic frames', unit='frame',
                         disable=not progress or not missing):
            self._load(seed)
