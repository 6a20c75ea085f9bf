# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The distillation output: the NYUDv2-list layout training reads, written so it can resume.

``rgb/``, ``masks/`` (uint8 student ids, 255 = ignore) and ``depth/`` (uint16 metres x 256,
0 = invalid) hold one PNG each per frame, every one written atomically; then the frame's
record (``.records/<key>.json``) says it is done. A run killed at any instant and started again
with the same command redoes only frames without a record, so nothing is lost or duplicated.
``distilled_list.txt`` and ``manifest.json`` are written (atomically) only once every frame
has a record: their presence means the output is complete. ``.settings.json`` pins what the
output was made with; another command cannot add to it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mtl_perception.formats.images import depth_to_png, write_png
from mtl_perception.safe_output import write_atomically
from mtl_perception.training.errors import DistillError
import numpy as np

LIST_NAME = 'distilled_list.txt'
MANIFEST = 'manifest.json'
SETTINGS = '.settings.json'
RECORDS = '.records'
DEPTH_SCALE = 256.0
FORMAT = 1


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=1, sort_keys=True) + '\n').encode()


class DistillOutput:
    """One output folder of ``mtl_distill`` made with ``settings``."""

    def __init__(self, folder: Path, settings: dict[str, Any]) -> None:
        self.folder = Path(folder)
        self.settings = settings

    def check(self) -> None:
        """Refuse a folder that holds something else, or a distillation with other settings.

        Raises:
            DistillError: Names the folder and the settings that differ.
        """
        if not self.folder.exists():
            return
        if not self.folder.is_dir():
            raise DistillError(f'--output {self.folder}: exists and is not a folder')
        stored = self.folder / SETTINGS
        if not stored.is_file():
            if any(self.folder.iterdir()):
                raise DistillError(f'--output {self.folder}: a non-empty folder that is not '
                                   'an mtl_distill output; choose a new or empty folder')
            return
        try:
            previous = json.loads(stored.read_text())
        except (OSError, ValueError) as error:
            raise DistillError(f'{stored}: unreadable ({error}); choose a new --output') from None
        changed = sorted(key for key in {*previous, *self.settings}
                         if previous.get(key) != self.settings.get(key))
        if changed:
            raise DistillError(f'--output {self.folder} was distilled with other settings '
                               f'({", ".join(changed)} differ); run the same command to '
                               'resume it, or choose a new --output')

    def prepare(self) -> None:
        """Create the folder and pin the settings (the main process, after :meth:`check`)."""
        (self.folder / RECORDS).mkdir(parents=True, exist_ok=True)
        if not (self.folder / SETTINGS).is_file():
            write_atomically(self.folder / SETTINGS,
                             lambda stream: stream.write(_json_bytes(self.settings)))

    def done(self) -> set[str]:
        """Keys of the frames that have a record (written or skipped)."""
        return {path.stem for path in (self.folder / RECORDS).glob('*.json')}

    def write(self, key: str, rgb: np.ndarray, labels: np.ndarray, depth: np.ndarray,
              record: dict[str, Any]) -> None:
        """Write one frame's three PNGs, then its record."""
        name = f'{key}.png'
        write_png(self.folder / 'rgb' / name, rgb)
        write_png(self.folder / 'masks' / name, labels)
        write_png(self.folder / 'depth' / name, depth_to_png(depth, DEPTH_SCALE))
        self._record(key, {**record, 'status': 'written'})

    def skip(self, key: str, record: dict[str, Any], reason: str) -> None:
        """Record a frame that is not written (poor depth fit, undecodable), with why."""
        self._record(key, {**record, 'status': 'skipped', 'reason': reason})

    def _record(self, key: str, record: dict[str, Any]) -> None:
        write_atomically(self.folder / RECORDS / f'{key}.json',
                         lambda stream: stream.write(_json_bytes({'key': key, **record})))

    def finish(self, command: str, damaged: list[str] | None = None) -> dict[str, Any]:
        """Write the list and the manifest from every record.

        Args:
            command: The command line, recorded.
            damaged: What the sources lacked (a truncated video), recorded as ``damaged``.
        """
        records = sorted((json.loads(path.read_text())
                          for path in (self.folder / RECORDS).glob('*.json')),
                         key=lambda record: record['key'])
        written = [r['key'] for r in records if r['status'] == 'written']
        skipped: dict[str, int] = {}
        for record in records:
            if record['status'] == 'skipped':
                skipped[record['reason']] = skipped.get(record['reason'], 0) + 1
        lines = ''.join(f'rgb/{k}.png\tmasks/{k}.png\tdepth/{k}.png\n' for k in written)
        manifest = {'format': FORMAT, 'command': command, 'settings': self.settings,
                    'depth_scale': DEPTH_SCALE,
                    'list': LIST_NAME, 'counts': {'written': len(written),
                                                  'skipped': sum(skipped.values()),
                                                  'skipped_by_reason': skipped},
                    'damaged': list(damaged or []), 'frames': records}
        write_atomically(self.folder / LIST_NAME, lambda stream: stream.write(lines.encode()))
        write_atomically(self.folder / MANIFEST,
                         lambda stream: stream.write(_json_bytes(manifest)))
        return manifest
