# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Rename a foreign state dict onto this project's keys, reporting every gap."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Mapped:
    """The outcome of :func:`map_state`: our state dict and what did not fit."""

    state: dict[str, torch.Tensor]
    missing: list[str]
    unexpected: list[str]

    def problems(self) -> str:
        """Describe the gaps in a few words; ``''`` when there are none."""
        parts = []
        if self.missing:
            more = '...' if len(self.missing) > 4 else ''
            parts.append(f'missing keys {self.missing[:4]}{more}')
        if self.unexpected:
            more = '...' if len(self.unexpected) > 4 else ''
            parts.append(f'unexpected keys {self.unexpected[:4]}{more}')
        return ', '.join(parts)


def rename(ours: str, prefixes: list[tuple[str, str]]) -> str | None:
    """Return the foreign key of our key ``ours``, or None when no prefix pair covers it."""
    for our_prefix, their_prefix in prefixes:
        if ours.startswith(our_prefix):
            return their_prefix + ours[len(our_prefix):]
    return None


def map_state(state: dict[str, torch.Tensor], expected: list[str],
              prefixes: list[tuple[str, str]]) -> Mapped:
    """Take, for every key we expect, the foreign key that ``prefixes`` names for it.

    BatchNorm's ``num_batches_tracked`` counter did not exist before PyTorch 0.4.1 and only
    matters to training with ``momentum=None``; where a file lacks it, it is set to 0.
    Every other absent key is reported as missing, every foreign key left over as unexpected.
    """
    mapped: dict[str, torch.Tensor] = {}
    missing, used = [], set()
    for ours in expected:
        theirs = rename(ours, prefixes)
        if theirs is not None and theirs in state:
            mapped[ours] = state[theirs]
            used.add(theirs)
        elif ours.endswith('num_batches_tracked'):
            mapped[ours] = torch.tensor(0)
        else:
            missing.append(theirs or ours)
    return Mapped(mapped, missing, sorted(set(state) - used))
