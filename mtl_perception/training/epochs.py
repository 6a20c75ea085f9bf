# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""How many steps an epoch has and which samples it visits, from ``(seed, epoch)`` alone.

Drawing every epoch's order and augmentation from the seed and the epoch number (never from
state carried between epochs) is what lets ``--resume`` continue exactly where a run stopped.
"""

from __future__ import annotations

import logging
import math
import os

from mtl_perception.training.errors import TrainingConfigError
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, RandomSampler


def steps_per_epoch(samples: int, world_size: int, batch_size: int, limit: int | None) -> int:
    """Full batches each process takes per epoch, at most ``limit`` (0/None: no limit).

    Raises:
        TrainingConfigError: Not one full batch per process.
    """
    steps = math.ceil(samples / world_size) // batch_size
    steps = min(steps, int(limit)) if limit else steps
    if steps < 1:
        raise TrainingConfigError(f'{samples} training samples do not fill one batch of '
                                  f'{batch_size} per process')
    return steps


LOGGER = logging.getLogger(__name__)
#: More loader processes than this rarely help and each holds a copy of the dataset object.
MAX_AUTO_WORKERS = 8


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, as a container or taskset limits)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else (
        os.cpu_count() or 1)


def loader_workers(setting: int | str, device: torch.device) -> int:
    """Resolve ``data.workers``: ``auto`` or a count, never more than the machine's cores.

    ``auto`` is every available core (at most :data:`MAX_AUTO_WORKERS`) when a GPU computes,
    and 0 on the CPU, whose cores already run the training (loader processes would only take
    them from it).

    Raises:
        TrainingConfigError: If the setting is neither ``auto`` nor a whole number >= 0.
    """
    cores = available_cores()
    if setting == 'auto':
        return min(cores, MAX_AUTO_WORKERS) if device.type == 'cuda' else 0
    if isinstance(setting, bool) or not isinstance(setting, int) or setting < 0:
        raise TrainingConfigError(f'data.workers must be auto or a whole number >= 0, '
                                  f'got {setting!r}')
    if setting > cores:
        LOGGER.info('data.workers=%d, but this machine has %d cores: using %d', setting,
                    cores, cores)
        return cores
    return setting


def epoch_loader(dataset: Dataset, *, seed: int, epoch: int, batch_size: int, workers: int,
                 distributed: bool, pin_memory: bool) -> DataLoader:
    """Return the loader of epoch ``epoch``: shuffled by ``(seed, epoch)``, full batches only.

    Under DDP each process takes its own share (``DistributedSampler.set_epoch``).
    """
    epoch_seed = seed * 100_003 + epoch
    torch.manual_seed(epoch_seed)
    generator = torch.Generator().manual_seed(epoch_seed)
    if distributed:
        sampler = DistributedSampler(dataset, shuffle=True, seed=seed, drop_last=True)
        sampler.set_epoch(epoch)
    else:
        sampler = RandomSampler(dataset, generator=generator)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=workers,
                      generator=generator, drop_last=True, pin_memory=pin_memory,
                      persistent_workers=False)
