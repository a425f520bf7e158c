"""Tiny synthetic COCO sets and a tiny demo-model config for the reliability tests."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Optional

from mmengine.config import Config

from rtmo_plugin.build import load_config
from rtmo_plugin.synthetic import write_split
from tiny_runs import tiny_config

DEMO_CONFIG = 'configs/demo/rtmo-demo_synthetic-128x128.py'
SIZE = 64  # image side of the tiny sets and input size of the tiny model


def write_tiny_set(root: Path, num_images: int = 4, seed: int = 3) -> Path:
    """``root/train/*.jpg`` and ``root/annotations/person_keypoints_train.json``
    (every image has at least one person); returns the annotation file."""
    ann_file = write_split(root, 'train', num_images, SIZE, seed)
    coco = json.loads(ann_file.read_text())
    with_people = {a['image_id'] for a in coco['annotations']}
    assert with_people == {i['id'] for i in coco['images']}, 'pick a seed with people in each'
    return ann_file


def edited(ann_file: Path, name: str, edit: Callable[[dict], None]) -> Path:
    """A copy of a COCO file, changed in place by ``edit(coco)``, beside the original."""
    coco = json.loads(ann_file.read_text())
    edit(coco)
    out = ann_file.with_name(name)
    out.write_text(json.dumps(coco))  # NaN is written as the bare token NaN, as Python reads
    return out


def tiny_cfg(root: Path, work_dir: Path, ann_file: Optional[Path] = None, epochs: int = 1,
             batch_size: int = 2, checkpoint: bool = False) -> Config:
    """The demo model (from random init, nothing downloaded) at ``SIZE`` on a tiny set:
    no shuffling (batches in file order), no validation during training."""
    ann_file = ann_file or root / 'annotations' / 'person_keypoints_train.json'
    data = dict(images=str(root / 'train') + '/', CocoDataset=str(ann_file))
    cfg = tiny_config(load_config(DEMO_CONFIG), data, work_dir, bottomup_size=(SIZE, SIZE),
                      num_train=None, batch_size=batch_size, checkpoint=checkpoint)
    cfg.train_dataloader.sampler = dict(type='DefaultSampler', shuffle=False)
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=epochs, val_interval=100)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0,
                                end=epochs)]
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    return cfg


def write_tiny_config(folder: Path, work_dir: Path, edit: Optional[Callable[[Config], None]] = None,
                      **kwargs) -> Path:
    """A tiny set in ``folder / 'data'`` and :func:`tiny_cfg` on it (``kwargs``), changed by
    ``edit(cfg)`` if given, written as ``folder / 'tiny.py'``: a config file as a user has."""
    write_tiny_set(folder / 'data')
    cfg = tiny_cfg(folder / 'data', work_dir, **kwargs)
    if edit is not None:
        edit(cfg)
    path = folder / 'tiny.py'
    Config(cfg.to_dict()).dump(str(path))
    return path
