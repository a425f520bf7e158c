"""Can RTMO learn real people's keypoints from scratch? Two recipes, one budget, one table.

    python tools/real_people.py [--data ../shared/data/coco-mini] [--epochs 36] [--out DIR]

Trains, from random init and on the same images (the 4 photographs of coco-mini, 12 labelled
people; trained and evaluated on the same 4: a memorisation test), the same small RTMO twice:

- ``plugin``: the plugin's demo recipe, ``configs/demo/rtmo-demo_coco-mini-320x320.py``;
- ``mmpose-stock``: MMPose 1.3's RTMO-s recipe (``body_2d_keypoint/rtmo/coco/
  rtmo-s_8xb32-600e_coco-640x640.py``: its head, initialisation, pipelines, EMA, optimiser
  and schedule) with only the model width, the input size (its random-resize range scaled
  with it), the data and the schedule's length (every epoch boundary scaled) changed to match.

Both run the same number of steps of the same batch at the same input size; the table gives
COCO AP/AR (MMPose's CocoMetric) and, for each of RTMO's two keypoint branches (the DCC and
the training-only regression branch), the mean best OKS per person and its keypoint error.
"""
from __future__ import annotations

import argparse
import copy
import os
import time
from pathlib import Path

from mmengine.config import Config

from rtmo_plugin.build import REPO, load_config
from rtmo_plugin.lab import demo_runner as dr
from rtmo_plugin.lab.builders import mmpose_configs, resize_bottomup

PLUGIN_CONFIG = REPO / 'configs/demo/rtmo-demo_coco-mini-320x320.py'
STOCK_CONFIG = 'body_2d_keypoint/rtmo/coco/rtmo-s_8xb32-600e_coco-640x640.py'
STOCK_EPOCHS = 600
DEFAULT_DATA = Path(os.environ.get('RTMO_SHARED_DATA', REPO.parent / 'shared' / 'data'))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', type=Path, default=DEFAULT_DATA / 'coco-mini',
                        help='a folder with person_keypoints.json and its images')
    parser.add_argument('--out', type=Path, default=REPO / 'results/real_people')
    parser.add_argument('--epochs', type=int, default=None,
                        help='epochs of both recipes (default: the plugin config\'s)')
    parser.add_argument('--procs', type=int, default=1,
                        help='training processes (default 1: the batch of 4 in one process, '
                        'so batch norm sees all 4 images)')
    parser.add_argument('--recipes', nargs='+', default=['plugin', 'mmpose-stock'],
                        choices=['plugin', 'mmpose-stock'])
    args = parser.parse_args(argv)
    if not (args.data / 'person_keypoints.json').is_file():
        parser.error(f'--data {args.data}: no person_keypoints.json there; point it at '
                     'coco-mini (../shared/data/coco-mini) or a COCO keypoints folder like it')
    if args.epochs is not None and args.epochs < 3:
        parser.error('--epochs must be >= 3')
    return args


def point_at(cfg: Config, data: Path) -> None:
    """Both loaders and the metric on ``data``'s person_keypoints.json (train = val)."""
    ann_file = str(data / 'person_keypoints.json')
    for dataset in (cfg.train_dataloader.dataset, cfg.val_dataloader.dataset,
                    cfg.test_dataloader.dataset):
        dataset.update(data_root='', ann_file=ann_file, data_prefix=dict(img=str(data) + '/'))
    cfg.val_evaluator.ann_file = cfg.test_evaluator.ann_file = ann_file


def plugin_config(epochs) -> Config:
    cfg = load_config(PLUGIN_CONFIG)
    if epochs is not None:
        # the config's warm-up fraction, at the new length
        fraction = cfg.param_scheduler[0].end / cfg.train_cfg.max_epochs
        cfg.train_cfg.max_epochs = epochs
        warmup = cfg.param_scheduler[0].end = max(1, round(epochs * fraction))
        cfg.param_scheduler[-1].update(begin=warmup, T_max=epochs - warmup, end=epochs)
        cfg.train_cfg.val_interval = max(1, epochs // 6)
        cfg.default_hooks.checkpoint.interval = epochs
        stage2 = round(epochs / 3)
        switch = next(h for h in cfg.custom_hooks if h.type == 'RTMOModeSwitchHook')
        switch.epoch_attributes = {stage2: next(iter(switch.epoch_attributes.values()))}
    return cfg


def _scaled(epoch: int, factor: float) -> int:
    return max(1, round(epoch * factor)) if epoch else 0


def stock_config(plugin: Config) -> Config:
    """MMPose's RTMO-s recipe at ``plugin``'s model width, input size, data, batch and length."""
    cfg = Config.fromfile(str(mmpose_configs() / STOCK_CONFIG))
    size = tuple(plugin.input_size)
    cfg = Config(resize_bottomup(cfg.to_dict(), size), filename=cfg.filename)
    model = cfg.model
    model.backbone.update(widen_factor=plugin.model.backbone.widen_factor, init_cfg=None)
    model.neck = copy.deepcopy(plugin.model.neck)
    model.head.head_module_cfg.update(
        {k: plugin.model.head.head_module_cfg[k] for k in ('in_channels', 'widen_factor',
                                                           'pose_vec_channels')})
    model.head.dcc_cfg.in_channels = plugin.model.head.head_module_cfg.pose_vec_channels
    resize = model.data_preprocessor.batch_augments[0]
    resize.random_size_range = tuple(round(s * size[0] / 640) for s in resize.random_size_range)
    # the schedule: every epoch boundary scaled from 600 epochs to the plugin's length
    epochs = plugin.train_cfg.max_epochs
    factor = epochs / STOCK_EPOCHS
    cfg.train_cfg.update(max_epochs=epochs, val_interval=plugin.train_cfg.val_interval,
                         dynamic_intervals=None)
    for scheduler in cfg.param_scheduler:
        scheduler.begin = _scaled(scheduler.begin, factor)
        scheduler.end = max(scheduler.begin + 1, _scaled(scheduler.end, factor))
        if 'T_max' in scheduler:
            scheduler.T_max = scheduler.end - scheduler.begin
    for hook in cfg.custom_hooks:
        if hook.type == 'YOLOXPoseModeSwitchHook':
            hook.num_last_epochs = _scaled(hook.num_last_epochs, factor)
        if hook.type == 'RTMOModeSwitchHook':
            hook.epoch_attributes = {_scaled(e, factor): v
                                     for e, v in hook.epoch_attributes.items()}
    # the same data, loaders (sizes, workers) and checkpointing as the plugin recipe
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = copy.deepcopy(plugin[key])
        loader.dataset.pipeline = cfg[key].dataset.pipeline
        cfg[key] = loader
    cfg.val_evaluator = copy.deepcopy(plugin.val_evaluator)
    cfg.test_evaluator = copy.deepcopy(plugin.test_evaluator)
    cfg.default_hooks.update(checkpoint=plugin.default_hooks.checkpoint,
                             logger=plugin.default_hooks.logger)
    cfg.randomness = plugin.randomness
    return cfg


def branch_table_row(cfg: Config, checkpoint: Path, data: Path) -> dict:
    """DCC vs regression errors of ``checkpoint``, measured with the plugin's head code (the
    stock model's weights load into it: one state-dict layout)."""
    from mmengine.runner import Runner

    from rtmo_plugin.build import build_model
    from rtmo_plugin.lab.diagnostics import branch_errors

    plugin = load_config(PLUGIN_CONFIG)
    point_at(plugin, data)
    model = build_model(plugin, checkpoint)
    loader_cfg = copy.deepcopy(plugin.val_dataloader)
    pack = loader_cfg.dataset.pipeline[-1]
    pack.meta_keys = tuple(pack.meta_keys) + ('raw_ann_info',)
    loader = Runner.build_dataloader(loader_cfg)
    return branch_errors(model, loader, loader.dataset.metainfo['sigmas'])


def main(argv=None) -> list:
    args = parse_args(argv)
    start = time.time()
    procs = args.procs
    plugin = plugin_config(args.epochs)
    configs = dict(plugin=plugin, **{'mmpose-stock': stock_config(plugin)})
    print(dr.machine_line())
    rows = []
    for name in args.recipes:
        cfg = configs[name]
        point_at(cfg, args.data)
        cfg.work_dir = str(args.out / name)
        result = dr.train_and_test(cfg, procs)
        errors = branch_table_row(cfg, result.checkpoint, args.data)
        rows.append(dict(recipe=name, AP=result.metrics['coco/AP'],
                         AP50=result.metrics['coco/AP .5'], AR=result.metrics['coco/AR'],
                         **errors, minutes=result.minutes))
    note = (f'{len(rows)} recipes, each {plugin.train_cfg.max_epochs} epochs (batch '
            f'{plugin.train_dataloader.batch_size}) at {plugin.input_size[0]}x'
            f'{plugin.input_size[1]}, from random init; trained and evaluated on {args.data}. '
            f'best_oks: per labelled person, the best OKS of a branch over all grid cells; '
            f'error_px: that cell\'s mean keypoint error in image pixels. '
            f'{dr.machine_line()}; {(time.time() - start) / 60:.1f} min in all.')
    table = dr.write_table(args.out, rows, note=note)
    print('\n' + Path(table).read_text())
    return rows


if __name__ == '__main__':
    main()
