"""Data and config helpers of the rtmw3d tests: tiny synthetic H3WB-format data, whole-body
2-D data (the real ``../shared/data`` COCO-WholeBody mini set when present, else the
generator's), and configs cut to one training and one test iteration."""
from __future__ import annotations

import copy
import os
import sys
from pathlib import Path

from mmengine.config import Config

REPO = Path(__file__).resolve().parents[3]
PROJECT = REPO / 'projects' / 'rtmw3d'
CONFIGS = PROJECT / 'configs'
SHARED_DATA = Path(os.environ.get('RTMO_SHARED_DATA', REPO.parent / 'shared' / 'data'))
if str(REPO / 'tests') not in sys.path:  # the repository's tiny-run helpers
    sys.path.append(str(REPO / 'tests'))
from tiny_runs import RUNNER_KEYS  # noqa: E402


def write_h3wb(out: Path, train_poses: int = 3, val_poses: int = 1, size: int = 128) -> Path:
    """Tiny synthetic H3WB-format data (4 images per pose); returns its root."""
    from projects.rtmw3d.rtmw3d import h3wb
    h3wb.write(out, train_poses=train_poses, val_poses=val_poses, image_size=size, seed=1)
    return out


def wholebody_2d(tmp: Path) -> dict:
    """``data_root``, ``ann_file`` and ``img`` prefix of a COCO-WholeBody set: the real
    ``../shared/data`` mini set when present, else 4 generated images."""
    real = SHARED_DATA / 'coco-wholebody-mini' / 'coco_wholebody.json'
    if real.is_file():
        return dict(data_root=str(SHARED_DATA) + '/', ann_file=str(real),
                    img=str(SHARED_DATA / 'coco-mini') + '/')
    from projects.rtmw3d.rtmw3d.synthetic_wholebody import write_coco_wholebody_split
    ann = write_coco_wholebody_split(tmp, 'train', 4, image_size=128, seed=2)
    return dict(data_root=str(tmp) + '/', ann_file=str(ann), img=str(tmp / 'train') + '/')


def runner_config(cfg: Config, work_dir: Path) -> Config:
    """One training iteration (epoch of one batch), no checkpoint, no pretrained weights."""
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = str(work_dir)
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_interval=100)
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.auto_scale_lr = dict(enable=False, base_batch_size=1)
    cfg.custom_hooks = [h for h in cfg.get('custom_hooks', []) if h['type'] == 'EMAHook']
    return Config({k: v for k, v in cfg.to_dict().items() if k in RUNNER_KEYS},
                  filename=cfg.filename, format_python_code=False)


def h3wb_loaders(cfg: Config, data_root: Path, batch_size: int = 1, num_train: int = 1,
                 num_test: int = 2) -> None:
    """Points an RTMW3D config's loaders at ``data_root`` (in place)."""
    loader = dict(num_workers=0, persistent_workers=False, batch_size=batch_size)
    cfg.train_dataloader.update(loader)
    cfg.train_dataloader.dataset.update(data_root=str(data_root) + '/', indices=num_train)
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key].update(loader, batch_size=num_test)
        cfg[key].dataset.update(data_root=str(data_root) + '/', indices=num_test)


def cocktail_loaders(cfg: Config, data_root: Path, batch_size: int = 2) -> None:
    """Points a whole-body-mix RTMW3D config (``*_cocktail14-*``) at ``data_root``'s
    synthetic H3WB and its COCO-WholeBody twin (in place): training on one 2-D and one 3-D
    sample, validation on one of each, scored by MPJPE and COCO-WholeBody AP."""
    root = str(data_root) + '/'
    coco = dict(type='CocoWholeBodyDataset', data_root=root, data_mode='topdown',
                data_prefix=dict(img=''), pipeline=[])
    h3wb = {k: v for k, v in cfg.val_dataloader.dataset.datasets[0].items()
            if k not in ('data_root', 'test_mode')}
    loader = dict(num_workers=0, persistent_workers=False, batch_size=batch_size)
    cfg.train_dataloader.update(loader)
    cfg.train_dataloader.dataset.datasets = [
        dict(coco, ann_file='annotations/coco_wholebody_train.json', indices=1),
        dict(h3wb, data_root=root, test_mode=False, indices=1)]
    val_ann = str(data_root / 'annotations' / 'coco_wholebody_val.json')
    val_sets = [dict(h3wb, data_root=root, test_mode=True, indices=1),
                dict(coco, ann_file=val_ann, test_mode=True, indices=1)]
    for key, evaluator in (('val_dataloader', 'val_evaluator'),
                           ('test_dataloader', 'test_evaluator')):
        cfg[key].update(loader)
        cfg[key].dataset.datasets = val_sets
        cfg[evaluator].datasets = val_sets
        cfg[evaluator].metrics[1].ann_file = val_ann


def wholebody_loaders(cfg: Config, data: dict, num_test: int = 1) -> None:
    """Points a whole-body 2-D (Cocktail14) config's loaders at one COCO-WholeBody set."""
    def dataset(pipeline, indices):
        return dict(type='CocoWholeBodyDataset', data_root='', data_mode='topdown',
                    ann_file=data['ann_file'], data_prefix=dict(img=data['img']),
                    pipeline=pipeline, indices=indices, test_mode=indices == num_test)
    loader = dict(num_workers=0, persistent_workers=False, batch_size=1)
    cfg.train_dataloader = dict(
        loader, sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dataset(cfg.train_dataloader.dataset.pipeline, 1))
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key] = dict(loader, drop_last=False,
                        sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
                        dataset=dataset(cfg.val_dataloader.dataset.pipeline, num_test))
        evaluator = 'val_evaluator' if key == 'val_dataloader' else 'test_evaluator'
        cfg[evaluator] = dict(type='CocoWholeBodyMetric', ann_file=data['ann_file'])
