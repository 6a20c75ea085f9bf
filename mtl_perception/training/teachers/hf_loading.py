# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Loading a ``transformers`` model and its image processor from a folder or a hub id.

A local folder is read with ``local_files_only``: nothing is fetched. A name that is not a
folder is taken as a Hugging Face hub id, the only case in which ``transformers`` may
download (the user asked for it by naming one); offline, that fails with one line.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

from mtl_perception.training.errors import TeacherError
from mtl_perception.training.teachers.base import folder_sha256

HUB_ID = r'^[A-Za-z0-9][\w.\-]*/[\w.\-]+$'
#: What ``save_pretrained`` writes for the weights (one file, or an index of shards).
WEIGHT_FILES = ('model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin',
                'pytorch_model.bin.index.json')
PROCESSOR_FILE = 'preprocessor_config.json'


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


def check_model_folder(folder: Path, role: str, *, labelled: bool) -> None:
    """Refuse a model folder that lacks a file loading needs, naming the file.

    ``transformers`` reports a missing weight or processor file as an unrecognised
    configuration class, a config without ``id2label`` as mismatched weight sizes, and a
    depth model named as the segmentation teacher as a missing ``id2label``.

    Raises:
        TeacherError: Names the folder and what is missing or damaged.
    """
    if not (folder / 'config.json').is_file():
        raise TeacherError(f'{role} {str(folder)!r}: not a transformers model folder (no '
                           'config.json; save one with save_pretrained)')
    if not any((folder / name).is_file() for name in WEIGHT_FILES):
        raise TeacherError(f'{role} {str(folder)!r}: no weights in the folder (none of '
                           f'{", ".join(WEIGHT_FILES)})')
    if not (folder / PROCESSOR_FILE).is_file():
        raise TeacherError(f'{role} {str(folder)!r}: no {PROCESSOR_FILE} (the image '
                           "processor's settings; save it with the processor's "
                           'save_pretrained)')
    try:
        config = json.loads((folder / 'config.json').read_text(encoding='utf-8'))
    except (OSError, ValueError) as error:
        raise TeacherError(f'{role} {str(folder)!r}: config.json is unreadable: '
                           f'{" ".join(str(error).split())[:160]}') from None
    architectures = config.get('architectures') if isinstance(config, dict) else None
    if labelled and architectures and not any('Segmentation' in str(name)
                                              for name in architectures):
        raise TeacherError(f'{role} {str(folder)!r}: holds a {architectures[0]}, not a '
                           'segmentation model (its config.json says so)')
    if labelled and not (isinstance(config, dict) and config.get('id2label')):
        raise TeacherError(f'{role} {str(folder)!r}: config.json has no id2label, so the '
                           "teacher's class names are unknown; restore it from the model's "
                           'original config.json')


def load_pretrained(spec: str, model_classes: tuple[str, ...], role: str, *,
                    labelled: bool = False) -> tuple[Any, Any, dict[str, Any]]:
    """Load a model of the first of ``model_classes`` that knows it, and its image processor.

    Args:
        spec: A local model folder (``save_pretrained`` output) or a hub id ``org/name``.
        model_classes: ``transformers`` auto classes to try in order (e.g.
            ``AutoModelForSemanticSegmentation``, then ``AutoModelForUniversalSegmentation``
            for Mask2Former).
        role: ``--teacher-segmentation`` or ``--teacher-depth``, for messages.
        labelled: The model's classes are needed (``id2label`` must be in its config).

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
    if local:
        check_model_folder(folder, role, labelled=labelled)
    errors = []
    for model_class in model_classes:
        try:
            model = getattr(transformers, model_class).from_pretrained(spec,
                                                                       local_files_only=local)
            processor = transformers.AutoImageProcessor.from_pretrained(spec,
                                                                        local_files_only=local)
            break
        except Exception as error:  # noqa: B902  transformers and safetensors raise many types
            errors.append(f'{type(error).__name__}: '
                          f'{next(iter(str(error).strip().splitlines()), "")}')
    else:
        where = 'from its folder' if local else 'from the Hugging Face hub (offline?)'
        # the class that recognised the configuration says what is really wrong
        telling = [e for e in errors if 'Unrecognized configuration class' not in e]
        reason = (telling or errors)[0]
        if 'Safetensor' in reason:
            reason = f'its model.safetensors is damaged (truncated?): {reason}'
        raise TeacherError(f'{role} {spec!r}: cannot load a {" or ".join(model_classes)} '
                           f'{where}: {reason[:240]}')
    description = {'source': str(folder.resolve()) if local else spec,
                   'model_type': model.config.model_type,
                   'sha256': folder_sha256(folder) if local else
                   getattr(model.config, '_commit_hash', None)}
    return model.eval(), processor, description
