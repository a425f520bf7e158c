"""Tiny datasets made from ../shared/data and config overrides that run any shipped config
for one training and one test iteration on them, on a CPU."""
from __future__ import annotations

import copy
import json
from pathlib import Path

from mmengine.config import Config

from rtmo_plugin.lab.builders import resize_bottomup

# COCO index of each keypoint of the derived sets
CROWDPOSE_FROM_COCO = list(range(5, 17))  # + top_head (from the nose) and neck (shoulders)
MY_KEYPOINTS_FROM_COCO = [0, 5, 6, 7, 8, 9, 10]  # configs/rtmo/custom/my_keypoints_metainfo.py
# what mmengine's Runner reads; the rest (helper variables, unused dataset lists) only makes
# the Runner's yapf-formatted config dumps slow (minutes for MMPose's RTMW config)
RUNNER_KEYS = {
    'model', 'work_dir', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'train_cfg',
    'val_cfg', 'test_cfg', 'auto_scale_lr', 'optim_wrapper', 'param_scheduler',
    'val_evaluator', 'test_evaluator', 'default_hooks', 'custom_hooks', 'data_preprocessor',
    'load_from', 'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level', 'visualizer',
    'default_scope', 'randomness', 'experiment_name', 'custom_imports', 'vis_backends',
    'model_wrapper_cfg', 'find_unused_parameters', 'backend_args'}


def _convert(coco: dict, pick, crowd_index: float | None = None) -> dict:
    """COCO keypoint annotations with each person's keypoints replaced by ``pick(kpts)``."""
    out = copy.deepcopy(coco)
    for ann in out['annotations']:
        kpts = [ann['keypoints'][3 * i:3 * i + 3] for i in range(17)]
        new = pick(kpts)
        ann['keypoints'] = [v for k in new for v in k]
        ann['num_keypoints'] = sum(k[2] > 0 for k in new)
    if crowd_index is not None:
        for image in out['images']:
            image['crowdIndex'] = crowd_index
    return out


def _crowdpose_keypoints(kpts: list) -> list:
    nose, left, right = kpts[0], kpts[5], kpts[6]
    neck = ([(left[0] + right[0]) / 2, (left[1] + right[1]) / 2, 2]
            if left[2] and right[2] else [0, 0, 0])
    return [kpts[i] for i in CROWDPOSE_FROM_COCO] + [list(nose), neck]


def make_tiny_data(shared: Path, out: Path) -> dict:
    """Writes the CrowdPose-format and custom-keypoint sets; returns every set's files."""
    coco_dir = shared / 'coco-mini'
    coco = json.loads((coco_dir / 'person_keypoints.json').read_text())
    out.mkdir(parents=True, exist_ok=True)
    crowdpose = out / 'crowdpose.json'
    crowdpose.write_text(json.dumps(_convert(coco, _crowdpose_keypoints, crowd_index=0.4)))
    custom = out / 'my_keypoints.json'
    custom.write_text(json.dumps(_convert(
        coco, lambda k: [k[i] for i in MY_KEYPOINTS_FROM_COCO])))
    return dict(
        images=str(coco_dir) + '/',
        CocoDataset=str(coco_dir / 'person_keypoints.json'),
        CrowdPoseDataset=str(crowdpose),
        CocoWholeBodyDataset=str(shared / 'coco-wholebody-mini' / 'coco_wholebody.json'),
        CocoWholeBodyBottomupDataset=str(shared / 'coco-wholebody-mini' / 'coco_wholebody.json'),
        custom=str(custom))


def _ann_file(dataset: dict, data: dict) -> str | None:
    from_file = str(dataset.get('metainfo', {}).get('from_file', ''))
    if from_file.endswith('my_keypoints_metainfo.py'):
        return data['custom']
    return data.get(dataset['type'])


def _redirect(dataset: dict, data: dict, num_train: int | None) -> dict | None:
    """The dataset on the tiny files, or None when there is no tiny set of its kind."""
    if dataset['type'] == 'CombinedDataset':
        leaves = [d for d in (_redirect(d, data, num_train) for d in dataset['datasets'])
                  if d is not None]
        if not leaves:
            return None
        dataset = dict(dataset, datasets=leaves)
        dataset.pop('sample_ratio_factor', None)
        return dataset
    ann_file = _ann_file(dataset, data)
    if ann_file is None:
        return None
    dataset = dict(dataset, data_root='', ann_file=ann_file, data_prefix=dict(img=data['images']))
    dataset.pop('bbox_file', None)  # top-down: ground-truth boxes instead of detections
    if num_train is not None:
        dataset['indices'] = num_train
    return dataset


def tiny_config(cfg: Config, data: dict, work_dir: Path, bottomup_size=(96, 96),
                num_train: int = 1, batch_size: int = 1, num_test: int = 2,
                checkpoint: bool = False) -> Config:
    """``cfg`` made to train one iteration and test on the tiny data, without downloads.

    The config's own pipelines, hooks, model and metric are kept; bottom-up configs
    run at ``bottomup_size``. Test sets keep their first ``num_test`` samples.
    """
    cfg = copy.deepcopy(cfg)
    if cfg.model.type == 'BottomupPoseEstimator':
        cfg = Config(resize_bottomup(cfg.to_dict(), bottomup_size), filename=cfg.filename)
        cfg.model.data_preprocessor.batch_augments = None
    cfg.model.backbone.init_cfg = None
    cfg.work_dir = str(work_dir)
    loader = dict(num_workers=0, persistent_workers=False, pin_memory=False)
    cfg.train_dataloader.update(loader, batch_size=batch_size)
    cfg.train_dataloader.dataset = _redirect(cfg.train_dataloader.dataset, data, num_train)
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key].update(loader, batch_size=num_test)
        cfg[key].dataset = _redirect(cfg[key].dataset, data, num_test)
    for key in ('val_evaluator', 'test_evaluator'):
        if 'ann_file' in cfg[key]:
            cfg[key].ann_file = _ann_file(cfg.test_dataloader.dataset, data)
    for hook in cfg.custom_hooks:
        if 'new_train_dataset' in hook:  # Body7's last epochs on COCO alone
            hook.new_train_dataset = _redirect(hook.new_train_dataset, data, num_train)
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_interval=100)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1) if checkpoint else None
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.auto_scale_lr = dict(enable=False, base_batch_size=batch_size)
    return Config({k: v for k, v in cfg.to_dict().items() if k in RUNNER_KEYS},
                  filename=cfg.filename, format_python_code=False)
