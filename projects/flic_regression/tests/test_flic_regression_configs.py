"""Every config of the project trains and tests one iteration on tiny generated FLIC; the paper
configs hold the seed's recipe."""
import math
from pathlib import Path

import pytest
from flic_fixtures import PROJECT, synthetic_flic, tiny
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from projects.flic_regression.flic_regression import flic_format

CONFIGS = sorted(p for p in (PROJECT / 'configs').glob('*.py'))


@pytest.fixture(scope='module')
def tiny_flic(tmp_path_factory) -> Path:
    # 4 training frames: one held out as the validation split
    return synthetic_flic(tmp_path_factory.mktemp('flic'), num_train=4, num_test=1)


def test_configs_are_collected():
    assert [p.name for p in CONFIGS] == [
        'resnet50-regression_b32-15e_flic-224x224.py',
        'resnet50-regression_tiny-cpu_synthetic-flic-64x64.py',
        'rtmpose-t_boxsimcc_b32-15e_flic-224x224.py',
        'rtmpose-t_boxsimcc_tiny-cpu_synthetic-flic-64x64.py']


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_config_trains_and_tests_one_iteration(path, tiny_flic, tmp_path):
    cfg = tiny(Config.fromfile(str(path)), tiny_flic, tmp_path)
    init_default_scope('mmpose')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 1
    # validation ran on the held-out training frames, and early stopping read its metric
    examples = flic_format.read_examples(tiny_flic / 'examples.mat')
    held_out = flic_format.val_frames(examples)
    val_frames, test_frames = (
        {Path(d.get_data_info(i)['img_path']).name for i in range(len(d))}
        for d in (runner.val_dataloader.dataset, runner.test_dataloader.dataset))
    assert val_frames == held_out
    assert test_frames == {ex.filepath for ex in examples if ex.istest}
    stopper = next(h for h in runner.hooks if type(h).__name__ == 'EarlyStoppingHook')
    assert stopper.monitor == 'flic/MSE' and math.isfinite(stopper.best_score)
    metrics = runner.test()
    assert 0 <= metrics['flic/PCK'] <= 1 and 0 <= metrics['flic/Accuracy'] <= 1
    assert metrics['flic/MSE'] >= 0 and metrics['flic/missed'] == 0


def test_paper_config_holds_the_seed_recipe():
    cfg = Config.fromfile(str(PROJECT / 'configs/resnet50-regression_b32-15e_flic-224x224.py'))
    assert cfg.model.backbone.depth == 50 and cfg.model.backbone.frozen_stages == 4
    assert cfg.model.backbone.init_cfg.checkpoint == 'torchvision://resnet50'
    head = cfg.model.head
    assert (head.type, head.num_joints, head.dropout) == ('SigmoidDenseRegressionHead', 29, 0.5)
    assert head.loss == dict(type='MSELoss', use_target_weight=True)
    assert cfg.optim_wrapper.optimizer.type == 'Adam'
    assert cfg.train_dataloader.batch_size == 32 and cfg.train_cfg.max_epochs == 15
    hooks = {h['type']: h for h in cfg.custom_hooks}
    assert hooks['EarlyStoppingHook']['patience'] == 10
    assert hooks['BackboneUnfreezeHook']['unfreeze_epoch'] == 10
    steps = {t['type']: t for t in cfg.train_pipeline}
    assert steps['RandomBBoxTransform']['rotate_factor'] == 30
    assert steps['RandomBBoxTransform']['shift_factor'] == 0.2
    assert tuple(steps['RandomBBoxTransform']['scale_factor']) == (0.8, 1.2)
    assert steps['RandomFlip']['direction'] == 'horizontal'
    assert steps['TopdownRandomShear']['shear'] == 0.2
    assert tuple(steps['RandomBrightnessScale']['scale']) == (0.8, 1.2)
    assert steps['RandomChannelShift']['shift'] == 20


def test_tiny_configs_are_small_deltas():
    tiny_reg = Config.fromfile(
        str(PROJECT / 'configs/resnet50-regression_tiny-cpu_synthetic-flic-64x64.py'))
    assert tiny_reg.model.backbone.init_cfg is None and tiny_reg.model.backbone.frozen_stages == -1
    assert tuple(tiny_reg.model.head.in_featuremap_size) == (2, 2)
    assert 'RandomFlip' not in [t['type'] for t in tiny_reg.train_pipeline]
    assert [t['type'] for t in tiny_reg.train_pipeline if t['type'] != 'RandomFlip'] == [
        t['type'] for t in Config.fromfile(str(CONFIGS[0])).train_pipeline
        if t['type'] != 'RandomFlip']
    tiny_rtm = Config.fromfile(str(CONFIGS[3]))
    assert tiny_rtm.model.head.out_channels == 29
    assert tuple(tiny_rtm.codec.input_size) == (64, 64)
