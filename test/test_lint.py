# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The ament code-style checks: flake8 (ament config) and pep257 with Google docstrings."""

from pathlib import Path

import ament_flake8
from ament_flake8.main import main_with_errors
from ament_pep257.main import main as pep257_main
import pytest

ROOT = Path(__file__).resolve().parents[1]
PATHS = [str(ROOT / name) for name in ('mtl_perception', 'test', 'bench', 'launch', 'setup.py')
         if (ROOT / name).exists()]


@pytest.mark.linter
def test_flake8_finds_no_style_error(tmp_path):
    # ament's configuration, in one process: flake8's worker processes are forked, and a fork
    # after an earlier test ran rclpy in this process (DDS threads) was seen to hang for good
    ament = Path(ament_flake8.__file__).parent / 'configuration' / 'ament_flake8.ini'
    config = tmp_path / 'ament_flake8_one_process.ini'
    config.write_text(ament.read_text() + 'jobs = 1\n')
    returncode, errors = main_with_errors(argv=['--config', str(config), *PATHS])
    assert returncode == 0, f'{len(errors)} flake8 error(s):\n' + '\n'.join(errors)


@pytest.mark.linter
def test_pep257_finds_no_docstring_error():
    # Google docstrings (STYLE.md) document __init__ arguments in the class docstring; test
    # names are sentences, so tests carry no docstrings of their own.
    sources = [path for path in PATHS if not path.endswith('test')]
    assert pep257_main(
        argv=[*sources, '--convention', 'google', '--add-ignore', 'D105', 'D107']) == 0
