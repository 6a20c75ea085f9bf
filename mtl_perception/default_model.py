# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Where the default weights live: the installed share folder, or ``models/`` of a checkout."""

from __future__ import annotations

from pathlib import Path

DEFAULT_MODEL_FILE = 'synthetic_mbv2_lwrefinenet.pt'


def default_model_path() -> Path:
    """Path of the default checkpoint (it may not exist in a checkout without weights).

    In a ROS workspace the package installs ``models/`` to ``share/mtl_perception/models``;
    in a source checkout or an editable install it sits next to the package.
    """
    try:
        from ament_index_python.packages import get_package_share_directory, PackageNotFoundError
    except ImportError:
        share = None
    else:
        try:
            share = Path(get_package_share_directory('mtl_perception'))
        except (PackageNotFoundError, OSError):  # OSError: no AMENT_PREFIX_PATH (no workspace)
            share = None
    if share is not None and (share / 'models' / DEFAULT_MODEL_FILE).is_file():
        return share / 'models' / DEFAULT_MODEL_FILE
    return Path(__file__).resolve().parent.parent / 'models' / DEFAULT_MODEL_FILE
