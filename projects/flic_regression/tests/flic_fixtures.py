"""Data for the project's tests: generated FLIC-format files, and COCO persons converted to
FLIC's slots (the real ../shared/data/coco-mini photos, or synthetic COCO without them)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Tuple

import numpy as np
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[3]
PROJECT = REPO / 'projects' / 'flic_regression'
SHARED_DATA = Path(os.environ.get('RTMO_SHARED_DATA', REPO.parent / 'shared' / 'data'))
MEDIAPIPE_PYTHON = REPO / '.venv-mediapipe' / 'bin' / 'python'


def synthetic_flic(root: Path, num_train: int = 2, num_test: int = 2) -> Path:
    """A synthetic FLIC folder (examples.mat + images/) under ``root``; returns the folder."""
    from projects.flic_regression.flic_regression.data import write_synthetic_flic
    write_synthetic_flic(root, num_train, num_test, seed=0)
    return root


def coco_persons(tmp: Path) -> Tuple[Path, Path, bool]:
    """A COCO keypoint file, its image folder and whether they are the real coco-mini photos
    (else 6 synthetic COCO images written into ``tmp``)."""
    real = SHARED_DATA / 'coco-mini' / 'person_keypoints.json'
    if real.is_file():
        return real, real.parent, True
    from rtmo_plugin.synthetic import write_split
    return write_split(tmp / 'coco', 'val', 6, 256, seed=3), tmp / 'coco' / 'val', False


def flic_arrays(coords: np.ndarray) -> np.ndarray:
    """``[29, 2]`` NaN except the given ``{slot: (x, y)}``."""
    out = np.full((29, 2), np.nan)
    for slot, point in coords.items():
        out[slot] = point
    return out


def tiny(cfg: Config, root: Path, work_dir: Path) -> Config:
    """One iteration of batch 2 on ``root``, no downloads, in the main process."""
    cfg.work_dir = str(work_dir)
    cfg.model.backbone.init_cfg = None
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].update(batch_size=2, num_workers=0, persistent_workers=False)
        cfg[key].dataset.update(data_root=str(root) + '/', indices=2)
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    for scheduler in cfg.get('param_scheduler') or []:
        if scheduler['type'] == 'CosineAnnealingLR':
            scheduler.update(begin=0, end=1, T_max=1)
    return cfg
