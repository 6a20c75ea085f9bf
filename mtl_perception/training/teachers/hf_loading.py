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


def load_pretrained(spec: str, model_classes: tuple[str, ...],
                    role: str) -> tuple[Any, Any, dict[str, Any]]:
    """Load a model of the first of ``model_classes`` that knows it, and its image processor.

    Args:
        spec: A local model folder (``save_pretrained`` output) or a hub id ``org/name``.
        model_classes: ``transformers`` auto classes to try in order (e.g.
            ``AutoModelForSemanticSegmentation``, then ``AutoModelForUniversalSegmentation``
            for Mask2Former).
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
    errors = []
    for model_class in model_classes:
        try:
            model = getattr(transformers, model_class).from_pretrained(spec,
                                                                       local_files_only=local)
            processor = transformers.AutoImageProcessor.from_pretrained(spec,
                                                                        local_files_only=local)
            break
        except (OSError, ValueError, KeyError, TypeError, ImportError) as error:
            errors.append(next(iter(str(error).strip().splitlines()), type(error).__name__))
    else:
        where = 'from its folder' if local else 'from the Hugging Face hub (offline?)'
        raise TeacherError(f'{role} {spec!r}: cannot load a {" or ".join(model_classes)} '
                           f'{where}: {errors[-1][:200]}')
    description = {'source': str(folder.resolve()) if local else spec,
                   'model_type': model.config.model_type,
                   'sha256': folder_sha256(folder) if local else
                   getattr(model.config, '_commit_hash', None)}
    return model.eval(), processor, description
