# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Loading a ``transformers`` model and its image processor from a folder or a hub id.

A local folder is read with ``local_files_only``: nothing is fetched. A name that is not a
folder is taken as a Hugging Face hub id, the only case in which ``transformers`` may
download (the user asked for it by naming one); offline, that fails with one line.
"""

from __future__ import annotations

from pathlib import Path
import re
from typing import Any

from mtl_perception.training.errors import TeacherError
from mtl_perception.training.teachers.base import folder_sha256

HUB_ID = r'^[A-Za-z0-9][\w.\-]*/[\w.\-]+$'


def import_transformers() -> Any:
    """Return the ``transformers`` module, quiet (no progress bars or info lines).

    Raises:
        TeacherError: Not installed; says which extra installs it.
    """
    try:
        import transformers
    except ImportError:
        raise TeacherError('foundation-model teachers need the transformers package: pip '
                           'install "mtl_perception[teachers]" (or pip install '
                           'transformers)') from None
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    return transformers


def load_pretrained(spec: str, model_class: str, role: str) -> tuple[Any, Any, dict[str, Any]]:
    """Load ``transformers.<model_class>`` and its image processor from ``spec``.

    Args:
        spec: A local model folder (``save_pretrained`` output) or a hub id ``org/name``.
        model_class: ``AutoModelForSemanticSegmentation`` or ``AutoModelForDepthEstimation``.
        role: ``--teacher-segmentation`` or ``--teacher-depth``, for messages.

    Returns:
        The model in eval mode, the processor, and its description for the manifest.

    Raises:
        TeacherError: Missing folder, a folder that holds no such model, or a hub id that
            cannot be fetched; one line naming ``spec``.
    """
    transformers = import_transformers()
    folder = Path(spec).expanduser()
    local = folder.exists()
    if not local and not re.match(HUB_ID, spec):
        raise TeacherError(f'{role} {spec!r}: no such model folder (and not a hub id of '
                           'the form org/name)')
    if local and not (folder / 'config.json').is_file():
        raise TeacherError(f'{role} {spec!r}: not a transformers model folder (no '
                           'config.json; save one with save_pretrained)')
    try:
        model = getattr(transformers, model_class).from_pretrained(spec, local_files_only=local)
        processor = transformers.AutoImageProcessor.from_pretrained(spec,
                                                                    local_files_only=local)
    except (OSError, ValueError, KeyError, TypeError) as error:
        where = 'from its folder' if local else 'from the Hugging Face hub (offline?)'
        first = next(iter(str(error).splitlines()), type(error).__name__)
        raise TeacherError(f'{role} {spec!r}: cannot load a {model_class} {where}: '
                           f'{first[:200]}') from None
    description = {'source': str(folder.resolve()) if local else spec,
                   'model_type': model.config.model_type,
                   'sha256': folder_sha256(folder) if local else
                   getattr(model.config, '_commit_hash', None)}
    return model.eval(), processor, description
