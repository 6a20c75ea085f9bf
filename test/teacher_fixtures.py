# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Tiny randomly initialised Hugging Face teachers, saved with ``save_pretrained``.

Architectures and processors of the real families (SegFormer for segmentation, Depth Anything
for depth) with a few small layers, so that every code path a real teacher takes runs in
seconds and nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import torch
import transformers
from transformers import (
    DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config, DPTImageProcessor,
    Mask2FormerConfig, Mask2FormerForUniversalSegmentation, Mask2FormerImageProcessor,
    SegformerConfig, SegformerForSemanticSegmentation, SegformerImageProcessor, SwinConfig
)

CITYSCAPES_NAMES = (
    'road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light', 'traffic sign',
    'vegetation', 'terrain', 'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train',
    'motorcycle', 'bicycle')


def tiny_segformer(folder: Path, names: tuple[str, ...] = CITYSCAPES_NAMES, seed: int = 0,
                   size: int = 64) -> Path:
    """Save a 2-stage SegFormer whose ``id2label`` is ``names``; return the folder."""
    transformers.utils.logging.disable_progress_bar()
    torch.manual_seed(seed)
    config = SegformerConfig(
        num_channels=3, num_encoder_blocks=2, depths=[1, 1], sr_ratios=[2, 1],
        hidden_sizes=[8, 16], patch_sizes=[7, 3], strides=[4, 2], num_attention_heads=[1, 1],
        mlp_ratios=[2, 2], decoder_hidden_size=16, num_labels=len(names),
        id2label=dict(enumerate(names)), label2id={n: i for i, n in enumerate(names)})
    model = SegformerForSemanticSegmentation(config).eval()
    with torch.no_grad():  # spread the logits so that classes and confidences vary
        model.decode_head.classifier.weight.mul_(20.0)
    model.save_pretrained(folder)
    SegformerImageProcessor(size={'height': size, 'width': size}).save_pretrained(folder)
    return folder


def tiny_mask2former(folder: Path, names: tuple[str, ...] = CITYSCAPES_NAMES, seed: int = 0,
                     size: int = 64) -> Path:
    """Save a query-based Mask2Former (Swin backbone of one block per stage)."""
    transformers.utils.logging.disable_progress_bar()
    torch.manual_seed(seed)
    backbone = SwinConfig(image_size=size, patch_size=4, embed_dim=32, depths=[1, 1, 1, 1],
                          num_heads=[1, 1, 1, 1], window_size=2,
                          out_features=['stage1', 'stage2', 'stage3', 'stage4'])
    config = Mask2FormerConfig(
        backbone_config=backbone, feature_size=32, mask_feature_size=32, hidden_dim=32,
        encoder_feedforward_dim=32, dim_feedforward=32, encoder_layers=1, decoder_layers=2,
        num_attention_heads=2, num_queries=8, num_labels=len(names),
        id2label=dict(enumerate(names)), label2id={n: i for i, n in enumerate(names)})
    model = Mask2FormerForUniversalSegmentation(config).eval()
    with torch.no_grad():  # queries that disagree on classes and masks
        model.class_predictor.weight.mul_(30.0)
        for parameter in model.model.transformer_module.decoder.mask_predictor.parameters():
            parameter.mul_(30.0)
    model.save_pretrained(folder)
    Mask2FormerImageProcessor(size={'height': size, 'width': size}).save_pretrained(folder)
    return folder


def tiny_depth_anything(folder: Path, *, metric: bool, seed: int = 0, size: int = 56,
                        max_depth: int = 80) -> Path:
    """Save a Depth Anything with a 2-layer DINOv2 backbone (metric or relative)."""
    transformers.utils.logging.disable_progress_bar()
    torch.manual_seed(seed)
    backbone = Dinov2Config(hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=32, patch_size=14, image_size=size,
                            out_features=['stage1', 'stage2'], reshape_hidden_states=False)
    config = DepthAnythingConfig(
        backbone_config=backbone, reassemble_hidden_size=16, reassemble_factors=[4, 2],
        neck_hidden_sizes=[8, 16], fusion_hidden_size=16, head_hidden_size=8,
        depth_estimation_type='metric' if metric else 'relative', max_depth=max_depth)
    model = DepthAnythingForDepthEstimation(config).eval()
    with torch.no_grad():  # spread the random output over a range instead of one value
        model.head.conv3.weight.mul_(3e6)  # the random features are tiny: widen them
        model.head.conv3.bias.fill_(0.0 if metric else 1.0)
    model.save_pretrained(folder)
    DPTImageProcessor(size={'height': size, 'width': size}, keep_aspect_ratio=True,
                      ensure_multiple_of=14, do_pad=False).save_pretrained(folder)
    return folder


#: ADE20K-150's class names as its ``id2label`` spells them.
ADE20K_NAMES = (
    'wall', 'building', 'sky', 'floor', 'tree', 'ceiling', 'road', 'bed ', 'windowpane', 'grass',
    'cabinet', 'sidewalk', 'person', 'earth', 'door', 'table', 'mountain', 'plant', 'curtain',
    'chair', 'car', 'water', 'painting', 'sofa', 'shelf', 'house', 'sea', 'mirror', 'rug',
    'field', 'armchair', 'seat', 'fence', 'desk', 'rock', 'wardrobe', 'lamp', 'bathtub',
    'railing', 'cushion', 'base', 'box', 'column', 'signboard', 'chest of drawers', 'counter',
    'sand', 'sink', 'skyscraper', 'fireplace', 'refrigerator', 'grandstand', 'path', 'stairs',
    'runway', 'case', 'pool table', 'pillow', 'screen door', 'stairway', 'river', 'bridge',
    'bookcase', 'blind', 'coffee table', 'toilet', 'flower', 'book', 'hill', 'bench',
    'countertop', 'stove', 'palm', 'kitchen island', 'computer', 'swivel chair', 'boat', 'bar',
    'arcade machine', 'hovel', 'bus', 'towel', 'light', 'truck', 'tower', 'chandelier',
    'awning', 'streetlight', 'booth', 'television receiver', 'airplane', 'dirt track',
    'apparel', 'pole', 'land', 'bannister', 'escalator', 'ottoman', 'bottle', 'buffet',
    'poster', 'stage', 'van', 'ship', 'fountain', 'conveyer belt', 'canopy', 'washer',
    'plaything', 'swimming pool', 'stool', 'barrel', 'basket', 'waterfall', 'tent', 'bag',
    'minibike', 'cradle', 'oven', 'ball', 'food', 'step', 'tank', 'trade name', 'microwave',
    'pot', 'animal', 'bicycle', 'lake', 'dishwasher', 'screen', 'blanket', 'sculpture', 'hood',
    'sconce', 'vase', 'traffic light', 'tray', 'ashcan', 'fan', 'pier', 'crt screen', 'plate',
    'monitor', 'bulletin board', 'shower', 'radiator', 'glass', 'clock', 'flag')
