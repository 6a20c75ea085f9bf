# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""``mtl_train``: train the multi-task network from a YAML configuration.

The command line of :class:`~mtl_perception.training.trainer.Trainer` (the run folder's
contents and how resuming works are described there). Run under ``torchrun --nproc_per_node
N`` for DistributedDataParallel.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
import shlex
import sys

from mtl_perception.cli import usage_error
from mtl_perception.errors import MtlPerceptionError
from mtl_perception.training.config import load_config, with_data_root
from mtl_perception.training.trainer import Trainer

__all__ = ['main', 'Trainer']

LOGGER = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='mtl_train', description=(
            'Train the joint segmentation + depth network. Settings come from built-in '
            'defaults, then --config YAML, then --set overrides; the resolved configuration '
            'is saved in the run folder. Multi-GPU: torchrun --nproc_per_node N '
            '$(which mtl_train) ...'))
    parser.add_argument('--config', type=Path,
                        help='YAML configuration (see config/train_*.yaml)')
    parser.add_argument('--set', dest='overrides', action='append', default=[],
                        metavar='KEY=VALUE',
                        help='override one setting, e.g. --set train.epochs=5 (repeatable)')
    parser.add_argument('--data-root', type=Path, metavar='DIR',
                        help='read every dataset that has a root folder from DIR instead '
                             "(NYUDv2: the seeds' dataset/ holding nyud/ and the list files, "
                             'or the folder holding rgb/; the lists are found beside or '
                             'inside it)')
    parser.add_argument('--output', type=Path, required=True,
                        help='run folder (checkpoints, metrics.csv, tensorboard/)')
    parser.add_argument('--resume', action='store_true',
                        help='continue from OUTPUT/last.pt with its saved configuration')
    parser.add_argument('--stop-after', type=int, metavar='EPOCHS',
                        help='stop after this many epochs in total (the learning-rate schedule '
                             'still spans all of them); continue later with --resume')
    parser.add_argument('--no-progress', action='store_true', help='no progress bars')
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``mtl_train``; returns the exit code (0 ok, 2 bad configuration/data)."""
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    main_process = int(os.environ.get('RANK', '0')) == 0
    logging.basicConfig(level=logging.INFO if main_process else logging.WARNING,
                        format='%(message)s')
    try:
        config_path = args.output / 'config.yaml' if args.resume else args.config
        config = load_config(config_path, args.overrides)
        if args.data_root is not None:
            config = with_data_root(config, args.data_root)
        trainer = Trainer(config, args.output, command=shlex.join(['mtl_train', *argv]),
                          progress=not args.no_progress)
        if trainer.context.is_main:
            trainer.folder.remove_stale_temporaries()
        if args.resume:
            trainer.resume()
            if trainer.finished:
                LOGGER.info(
                    '%s is finished: all %d epochs are done. To train further, raise the '
                    'epoch count: mtl_train --output %s --resume --set train.epochs=N (N > %d; '
                    'the learning-rate schedule then spans N epochs)', args.output,
                    trainer.epoch, shlex.quote(str(args.output)), trainer.epoch)
                return 0
        trainer.fit(stop_after=args.stop_after)
    except MtlPerceptionError as error:
        return usage_error('mtl_train', error)
    LOGGER.info('run folder: %s', args.output)
    return 0
