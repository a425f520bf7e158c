"""The demos' shared steps: data written once per key, schedules stretched as a whole."""
import json

from mmengine.config import Config

from helpers import REPO, load_tool
from rtmo_plugin.engine import amp
from rtmo_plugin.lab import demo_runner as dr


def test_synthetic_coco_writes_each_split_once(tmp_path):
    data_dir = dr.synthetic_coco(tmp_path, num_train=2, num_val=1, size=96)
    ann = data_dir / 'annotations' / 'person_keypoints_val.json'
    before = ann.stat().st_mtime_ns
    assert dr.synthetic_coco(tmp_path, num_train=2, num_val=1, size=96) == data_dir
    assert ann.stat().st_mtime_ns == before  # reused, not rewritten
    assert len(json.loads(ann.read_text())['images']) == 1
    assert len(list((data_dir / 'train').glob('*.jpg'))) == 2


def test_cached_splits_writes_only_the_missing_split(tmp_path):
    (tmp_path / 'annotations').mkdir()
    (tmp_path / 'annotations' / 'x_train.json').write_text('{}')
    written = []
    assert dr.cached_splits(tmp_path, 'x_{split}.json', dict(train=3, val=2),
                            lambda split, count: written.append((split, count))) == tmp_path
    assert written == [('val', 2)]


def test_set_epochs_stretches_the_loop_scheduler_checkpoint_and_stage_switch():
    cfg = Config.fromfile(str(REPO / 'configs/demo/rtmo-demo_synthetic-128x128.py'))
    val_interval = cfg.train_cfg.val_interval
    assert cfg.train_cfg.max_epochs == 44
    dr.set_epochs(cfg, 11)  # a quarter of the demo's 44 epochs
    assert cfg.train_cfg.max_epochs == 11 and cfg.train_cfg.val_interval == val_interval
    cosine = cfg.param_scheduler[-1]
    assert (cosine.begin, cosine.end, cosine.T_max) == (1, 11, 10)
    assert cfg.default_hooks.checkpoint.interval == 11
    switch = next(h for h in cfg.custom_hooks if h.type == 'RTMOModeSwitchHook')
    assert list(switch.epoch_attributes) == [4]  # epoch 15 of 44


def test_demo_epochs_option_stretches_the_schedule_and_validates_four_times(tmp_path):
    import argparse
    demo = load_tool('demo')
    args = argparse.Namespace(epochs=11, cfg_options={}, out=tmp_path, amp=False)
    cfg = demo.build_config(Config.fromfile(str(demo.CONFIG)), args, tmp_path / 'data')
    assert cfg.train_cfg.max_epochs == 11 and cfg.train_cfg.val_interval == 2
    assert cfg.param_scheduler[-1].end == 11 and cfg.default_hooks.checkpoint.interval == 11
    switch = next(h for h in cfg.custom_hooks if h.type == 'RTMOModeSwitchHook')
    assert list(switch.epoch_attributes) == [4]  # the second stage still a third of the way in
    assert cfg.train_dataloader.dataset.data_root == f'{tmp_path}/data/'
    assert cfg.optim_wrapper.type == 'FiniteOptimWrapper'
    amp_args = argparse.Namespace(epochs=None, cfg_options={}, out=tmp_path, amp=True)
    amp_cfg = demo.build_config(Config.fromfile(str(demo.CONFIG)), amp_args, tmp_path / 'data')
    assert amp_cfg.optim_wrapper.type == amp.amp_wrapper_type('FiniteOptimWrapper')
