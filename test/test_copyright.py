# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Every source file names its copyright holder and licence (LICENSE: test_package.py).

The check ament_copyright makes in a ROS workspace (it is not on PyPI), with SPDX headers.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = ('# Copyright 2026 mtl_perception maintainers', '# SPDX-License-Identifier: MIT')
SOURCE_FOLDERS = ('mtl_perception', 'launch', 'bench', 'scripts', 'test', '.ci')


def _sources() -> list[Path]:
    files = [ROOT / 'setup.py', ROOT / '.ci' / 'run']
    for folder in SOURCE_FOLDERS:
        files += [path for pattern in ('*.py', '*.sh') for path in (ROOT / folder).rglob(pattern)
                  if '__pycache__' not in path.parts]
    return sorted(set(files))


def test_every_source_file_starts_with_the_copyright_and_licence_header():
    missing = []
    for path in _sources():
        lines = path.read_text().splitlines()
        start = 1 if lines and lines[0].startswith('#!') else 0
        if tuple(lines[start:start + 2]) != HEADER:
            missing.append(str(path.relative_to(ROOT)))
    assert len(_sources()) > 100
    assert not missing, f'add the two header lines {HEADER} to: {missing}'
