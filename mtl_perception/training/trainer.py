# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""One training run: model, data, optimisation state and its run folder (``mtl_train``'s work).

A run folder holds ``config.yaml`` (the resolved configuration), ``last.pt`` (weights plus
everything needed to resume), ``best.pt`` (best validation score), ``metrics.csv`` (one row per
epoch), ``curves.png`` and ``tensorboard/``. Every epoch draws its data order and augmentation
from ``(seed, epoch)`` alone, so ``resume`` continues exactly where the run stopped. Under
``torchrun --nproc_per_node N`` it runs DistributedDataParallel; rank 0 does all I/O.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
import time
from typing import Any

from mtl_perception.checkpoint import load_checkpoint, ModelMetadata, save_checkpoint
from mtl_perception.engines.torch_engine import Predictor
from mtl_perception.errors import CheckpointError
from mtl_perception.holds import hold_if_asked
from mtl_perception.labels import ClassSet, get_class_set
from mtl_perception.model import build_model
from mtl_perception.training.config import save_config
from mtl_perception.training.datasets import build_datasets
from mtl_perception.training.distributed import DistributedContext, init_distributed
from mtl_perception.training.epochs import epoch_loader, loader_workers, steps_per_epoch
from mtl_perception.training.evaluate import evaluate
from mtl_perception.training.losses import MultiTaskLoss
from mtl_perception.training.optimisation import build_optimizer, build_scheduler
from mtl_perception.training.plots import plot_training_curves
from mtl_perception.training.run_folder import RunFolder, validation_score
from mtl_perception.training.segmentation_losses import build_segmentation_criterion
from mtl_perception.training.transforms import training_transform
from mtl_perception.training.warm_start import initialise
from mtl_perception.visualize import colourise_depth, colourise_labels, mosaic
import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

LOGGER = logging.getLogger(__name__)


def _metadata(config: dict[str, Any], class_set: ClassSet, command: str,
              metrics: dict[str, Any], derived: dict[str, Any]) -> ModelMetadata:
    data = config['data']
    return ModelMetadata(
        arch=config['model']['arch'], arch_kwargs=dict(config['model']['arch_kwargs']),
        num_classes=class_set.num_classes,
        class_names=class_set.names, palette=class_set.colours,
        input_size=tuple(data['input_size']), depth_range=tuple(data['depth_range']),
        dataset='+'.join(spec['type'] for spec in data['train']), metrics=metrics,
        created_by={'command': command, 'config': config, **derived})


def _normalise(images: torch.Tensor, metadata: ModelMetadata) -> torch.Tensor:
    """uint8 ``(B, 3, H, W)`` to the network input, as the Predictor does it."""
    mean = torch.tensor(metadata.mean, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(metadata.std, device=images.device).view(1, 3, 1, 1)
    return (images.float() / 255.0 - mean) / std


class Trainer:
    """One training run: model, data, optimisation state and the run folder."""

    def __init__(self, config: dict[str, Any], run_dir: Path, *, command: str,
                 progress: bool = True) -> None:
        self.config = config
        self.train_config = config['train']
        self.run_dir = Path(run_dir)
        self.folder = RunFolder(self.run_dir)
        self.command = command
        self.context: DistributedContext = init_distributed(self.train_config['device'])
        self.progress = progress and self.context.is_main
        self.device = self.context.device
        self.class_set = get_class_set(config['model']['class_set'])
        torch.manual_seed(int(self.train_config['seed']))
        self.train_set, self.val_set = self._datasets()
        self.model = build_model(config['model']['arch'], num_classes=self.class_set.num_classes,
                                 **config['model']['arch_kwargs'])
        self.initialisation = initialise(self.model, config['model'])
        LOGGER.info('starting from %s', self.initialisation)
        self.memory_format = (torch.channels_last if self.train_config['channels_last']
                              else torch.contiguous_format)
        self.model.to(self.device, memory_format=self.memory_format)
        self.network: nn.Module = self.model
        if self.context.enabled:
            ids = [self.device.index] if self.device.type == 'cuda' else None
            self.network = DistributedDataParallel(self.model, device_ids=ids)
        self.optimizer = build_optimizer(self.model, self.train_config)
        self.steps_per_epoch = steps_per_epoch(
            len(self.train_set), self.context.world_size, int(self.train_config['batch_size']),
            self.train_config['max_steps_per_epoch'])
        total = self.steps_per_epoch * int(self.train_config['epochs'])
        self.scheduler = build_scheduler(self.optimizer, total,
                                         int(self.train_config['warmup_steps']))
        self.amp = bool(self.train_config['amp']) and self.device.type == 'cuda'
        self.scaler = torch.amp.GradScaler('cuda', enabled=self.amp)
        self.workers = loader_workers(config['data']['workers'], self.device)
        LOGGER.info('training on %s, AMP %s, %.2f M parameters, %d training / %d validation '
                    'samples, %d data-loader workers', self.device, self._amp_state(),
                    sum(p.numel() for p in self.model.parameters()) / 1e6,
                    len(self.train_set), len(self.val_set), self.workers)
        criterion, self.criterion_details = build_segmentation_criterion(
            self.train_config['segmentation_loss'], self.train_set, self.class_set.num_classes,
            progress=self.progress)
        if self.criterion_details:
            LOGGER.info('segmentation loss: %s', self.criterion_details)
        self.loss = MultiTaskLoss(float(self.train_config['segmentation_weight']),
                                  float(self.train_config['depth_weight']),
                                  log_depth=bool(self.train_config['log_depth']),
                                  normals_weight=float(self.train_config['normals_weight']),
                                  segmentation_criterion=criterion)
        self.epoch, self.step, self.best_score = 0, 0, -math.inf
        self.writer: SummaryWriter | None = None

    def _amp_state(self) -> str:
        if self.amp:
            return 'on (float16)'
        return 'off' if self.train_config['amp'] is False else 'off (float16 needs CUDA)'

    @property
    def finished(self) -> bool:
        """Whether every configured epoch is done (after :meth:`resume`)."""
        return self.epoch >= int(self.train_config['epochs'])

    def _datasets(self) -> tuple[Dataset, Dataset]:
        data = self.config['data']
        crop = data['crop_size'] or data['input_size']
        transform = training_transform(crop, base_size=data['base_size'],
                                       scale=tuple(data['scale']), jitter=data['colour_jitter'],
                                       blur_and_jpeg=data['blur_and_jpeg'])
        train_set = build_datasets(data['train'], self.class_set, transform)
        val_set = build_datasets(data['val'], self.class_set)
        if self.context.is_main:
            for dataset in (train_set, val_set):
                for part in getattr(dataset, 'datasets', [dataset]):
                    if hasattr(part, 'prepare'):
                        part.prepare(progress=self.progress)
        self.context.barrier()
        return train_set, val_set

    def _loader(self, epoch: int) -> DataLoader:
        train = self.train_config
        return epoch_loader(self.train_set, seed=int(train['seed']), epoch=epoch,
                            batch_size=int(train['batch_size']),
                            workers=self.workers,
                            distributed=self.context.enabled,
                            pin_memory=self.device.type == 'cuda')

    def resume(self) -> None:
        """Restore weights, optimiser, scheduler, scaler and counters from ``last.pt``."""
        checkpoint = load_checkpoint(self.folder.last)
        state = checkpoint.training_state
        if not state:
            raise CheckpointError(f'{self.folder.last} holds no training state to resume')
        self.model.load_state_dict(checkpoint.model.state_dict())
        self.optimizer.load_state_dict(state['optimizer'])
        self.scheduler.load_state_dict(state['scheduler'])
        self.scaler.load_state_dict(state['scaler'])
        self.epoch, self.step = int(state['epoch']) + 1, int(state['step'])
        self.best_score = float(state['best_score'])
        LOGGER.info('resumed %s at epoch %d (step %d)', self.folder.last, self.epoch, self.step)

    def _train_epoch(self, epoch: int) -> dict[str, float]:
        self.network.train()
        sums: dict[str, float] = {}
        started = time.perf_counter()
        batches = iter(self._loader(epoch))
        bar = tqdm(range(self.steps_per_epoch), desc=f'epoch {epoch + 1}/'
                   f'{self.train_config["epochs"]}', unit='step', disable=not self.progress)
        for _ in bar:
            batch = {k: v.to(self.device, non_blocking=True) for k, v in next(batches).items()}
            terms = self._step(batch)
            hold_if_asked(f'step {self.step}')
            for name, value in terms.items():
                sums[name] = sums.get(name, 0.0) + value
            bar.set_postfix(loss=f'{terms["total"]:.3f}', seg=f'{terms["segmentation"]:.3f}',
                            depth=f'{terms["depth"]:.3f}')
            if self.writer and self.step % int(self.train_config['log_every']) == 0:
                for name, value in terms.items():
                    self.writer.add_scalar(f'train/{name}', value, self.step)
                self.writer.add_scalar('train/lr', self.scheduler.get_last_lr()[-1], self.step)
        seconds = time.perf_counter() - started
        images = self.steps_per_epoch * int(self.train_config['batch_size'])
        means = {f'train_{k}': v / self.steps_per_epoch for k, v in sums.items()}
        return {**means, 'seconds': seconds,
                'images_per_second': images * self.context.world_size / seconds}

    def _normalise(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return _normalise(batch['image'], self.metadata()).contiguous(
            memory_format=self.memory_format)

    def _step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        inputs = self._normalise(batch)
        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp):
            outputs = self.network(inputs)
        terms = self.loss(outputs, batch)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(terms['total']).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        self.step += 1
        return {name: float(value.detach()) for name, value in terms.items()}

    def metadata(self, metrics: dict[str, Any] | None = None) -> ModelMetadata:
        """Return the checkpoint metadata of this run (with ``metrics`` when known)."""
        return _metadata(self.config, self.class_set, self.command, metrics or {},
                         {**self.criterion_details, 'initialisation': self.initialisation})

    def validate(self) -> dict[str, Any]:
        """Metrics of the current weights on the validation set, through the Predictor."""
        predictor = Predictor(self.model, self.metadata(), device=self.device, half=False,
                              channels_last=self.train_config['channels_last'])
        try:
            return evaluate(predictor, self.val_set, progress=self.progress,
                            description='validating')
        finally:
            self.network.train()

    def _log_images(self, epoch: int) -> None:
        predictor = Predictor(self.model, self.metadata(), device=self.device, half=False,
                              channels_last=self.train_config['channels_last'])
        rows = []
        for index in range(min(4, len(self.val_set))):
            image = self.val_set[index]['image'].permute(1, 2, 0).numpy()
            result = predictor.predict(image)
            rows.append(mosaic(image, colourise_labels(result.labels, result.palette),
                               colourise_depth(result.depth, self.metadata().depth_range)))
        self.network.train()
        self.writer.add_image('validation/image_segmentation_depth', np.concatenate(rows),
                              epoch, dataformats='HWC')

    def _save(self, epoch: int, row: dict[str, Any], metrics: dict[str, Any]) -> None:
        """Write ``best.pt`` (if this epoch is best), then ``last.pt`` with the updated score.

        ``last.pt`` holds the best score including this epoch, so a resumed run compares later
        epochs against the same best as an uninterrupted one. A kill between the two writes
        resumes from the previous ``last.pt`` and repeats the epoch, which (training being
        deterministic) writes the same ``best.pt`` again.
        """
        measured = {'validation': metrics, 'epoch': epoch + 1,
                    'data': self.config['data']['val']}
        if row.get('val_score', -math.inf) >= self.best_score:
            self.best_score = row['val_score']
            hold_if_asked(f'best {epoch + 1}')
            save_checkpoint(self.folder.best, self.model, self.metadata(measured))
        state = {'optimizer': self.optimizer.state_dict(),
                 'scheduler': self.scheduler.state_dict(), 'scaler': self.scaler.state_dict(),
                 'epoch': epoch, 'step': self.step, 'best_score': self.best_score}
        hold_if_asked(f'last {epoch + 1}')
        save_checkpoint(self.folder.last, self.model, self.metadata(measured),
                        training_state=state)

    def fit(self, stop_after: int | None = None) -> dict[str, Any]:
        """Train the remaining epochs and return the last validation metrics.

        Args:
            stop_after: Stop once this many epochs are done (the schedule still spans all
                configured epochs), to split a run into jobs that ``--resume`` continues.
        """
        if self.context.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            # rows of epochs the run does not start after (a kill between an epoch's row and
            # its checkpoint, before or after the first one) are written again below
            self.folder.trim_rows(self.epoch)
            save_config(self.config, self.run_dir / 'config.yaml')
            self.writer = SummaryWriter(str(self.run_dir / 'tensorboard'))
        metrics: dict[str, Any] = {}
        end = int(self.train_config['epochs'])
        for epoch in range(self.epoch, min(end, stop_after or end)):
            row: dict[str, Any] = {'epoch': epoch + 1, **self._train_epoch(epoch)}
            row.update(step=self.step, lr=self.scheduler.get_last_lr()[-1])
            last = epoch + 1 == int(self.train_config['epochs'])
            if last or (epoch + 1) % int(self.train_config['val_every']) == 0:
                metrics = self.validate()
                row.update({f'val_{k}': v for k, v in metrics.items() if isinstance(v, float)})
                row['val_score'] = validation_score(metrics)
            if self.context.is_main:
                self._after_epoch(epoch, row, metrics)
            self.context.barrier()
        if self.writer:
            self.writer.close()
            plot_training_curves(self.folder.metrics, self.run_dir / 'curves.png')
        self.context.close()
        return metrics

    def _after_epoch(self, epoch: int, row: dict[str, Any], metrics: dict[str, Any]) -> None:
        self.folder.append_row(row)
        hold_if_asked(f'row {epoch + 1}')
        for key, value in row.items():
            if key.startswith('val_') and isinstance(value, float):
                self.writer.add_scalar(f'validation/{key[4:]}', value, epoch + 1)
        if metrics:
            self._log_images(epoch + 1)
        self.writer.flush()
        self._save(epoch, row, metrics)
        LOGGER.info('epoch %d: %s', epoch + 1, ', '.join(
            f'{k}={v:.4f}' for k, v in row.items() if isinstance(v, float)))
