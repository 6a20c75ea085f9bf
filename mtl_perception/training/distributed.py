# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Process-group set-up for ``torchrun``: which rank this is and which device it owns."""

from __future__ import annotations

from dataclasses import dataclass
import os

from mtl_perception.engines.torch_engine import resolve_device
import torch
from torch import distributed


@dataclass(frozen=True)
class DistributedContext:
    """Rank, world size and device of this process (a single process has rank 0 of 1)."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Whether this process writes files, logs and checkpoints."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        """Whether a process group is running."""
        return self.world_size > 1

    def barrier(self) -> None:
        """Wait for every process (no-op without a process group)."""
        if self.enabled:
            distributed.barrier()

    def close(self) -> None:
        """Tear the process group down."""
        if self.enabled and distributed.is_initialized():
            distributed.destroy_process_group()


def init_distributed(device: str) -> DistributedContext:
    """Join the process group ``torchrun`` describes in the environment, if any.

    With ``WORLD_SIZE > 1`` each process takes GPU ``LOCAL_RANK`` (NCCL) or, without CUDA,
    the CPU (Gloo); otherwise ``device`` is resolved as usual.
    """
    world_size = int(os.environ.get('WORLD_SIZE', '1'))
    if world_size <= 1:
        return DistributedContext(0, 1, resolve_device(device))
    local_rank = int(os.environ.get('LOCAL_RANK', '0'))
    use_cuda = torch.cuda.is_available() and device != 'cpu'
    if use_cuda:
        torch.cuda.set_device(local_rank)
    distributed.init_process_group('nccl' if use_cuda else 'gloo')
    chosen = torch.device('cuda', local_rank) if use_cuda else torch.device('cpu')
    return DistributedContext(distributed.get_rank(), distributed.get_world_size(), chosen)
