# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The commands' entry: every console script owns its signals before anything heavy loads."""

from __future__ import annotations

import importlib
from pathlib import Path
import re
import subprocess
import sys

from mtl_perception.commands import COMMANDS
from mtl_perception.process_signals import INTERRUPT, STOP

ROOT = Path(__file__).resolve().parents[1]


def test_every_console_script_is_a_command_and_every_command_a_console_script():
    scripts = dict(re.findall(r"'(\w+) = (mtl_perception[\w.]*:\w+)'",
                              (ROOT / 'setup.py').read_text()))
    assert scripts == {name: f'mtl_perception.commands:{name}' for name in COMMANDS}


def test_every_command_names_a_main_that_exists():
    for name, command in COMMANDS.items():
        assert callable(getattr(importlib.import_module(command.module), command.function)), name
        assert command.mode in (STOP, INTERRUPT)


def test_the_entry_imports_nothing_heavy_before_the_handler_is_installed():
    probe = ('import sys, mtl_perception.commands, mtl_perception.__main__; '
             "print(sorted(m for m in ('torch', 'rclpy', 'cv2', 'numpy', 'onnxruntime') "
             'if m in sys.modules))')
    result = subprocess.run([sys.executable, '-c', probe], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == '[]', result.stderr


def test_an_unknown_command_is_a_usage_error_listing_the_commands():
    result = subprocess.run([sys.executable, '-m', 'mtl_perception', 'mtl_nothing'],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith('usage: python -m mtl_perception COMMAND [ARGS...]; '
                                    'COMMAND is one of mtl_bag_play, mtl_demo,')
