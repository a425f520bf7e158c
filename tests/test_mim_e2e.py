"""`mim train` + `mim test` of a plugin config on the real 4-image COCO set."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO, pipelines_config

pytestmark = pytest.mark.slow  # subprocess runs / training experiments

CONFIG = '''
_base_ = ['{base}']
input_size = (320, 320)
data_root = '{data}/'
model = dict(
    backbone=dict(init_cfg=None),
    data_preprocessor=dict(batch_augments=None),
    test_cfg=dict(input_size=input_size, score_thr=0.01))
{pipelines}dataset = dict(type='CocoDataset', data_root=data_root, data_mode='bottomup',
               ann_file='person_keypoints.json', data_prefix=dict(img=''))
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        pin_memory=False, dataset=dict(dataset, pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False, pin_memory=False,
                      dataset=dict(dataset, test_mode=True, pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'person_keypoints.json')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=2, val_interval=2, dynamic_intervals=None)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=2)]
default_hooks = dict(checkpoint=dict(interval=2), logger=dict(interval=1))
custom_hooks = [dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0002,
                     update_buffers=True, strict_load=False, priority=49)]
'''


def mim(*args, cwd):
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    mim_bin = Path(sys.executable).with_name('mim')
    proc = subprocess.run([str(mim_bin), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def test_mim_train_then_test(coco_mini, tmp_path):
    config = tmp_path / 'rtmo_mini.py'
    base = REPO / 'configs/rtmo/coco/rtmo-s_8xb32-600e_coco-640x640.py'
    config.write_text(CONFIG.replace('{base}', str(base)).replace('{data}', str(coco_mini))
                      .replace('{pipelines}', pipelines_config((320, 320))))
    work_dir = tmp_path / 'work'
    # run from an unrelated directory: nothing may depend on the working directory
    mim('train', 'mmpose', str(config), '--work-dir', str(work_dir), cwd=tmp_path)
    checkpoint = work_dir / 'epoch_2.pth'
    assert checkpoint.is_file()

    out = mim('test', 'mmpose', str(config), '--checkpoint', str(checkpoint),
              '--work-dir', str(work_dir / 'test'), cwd=tmp_path)
    match = re.search(r'coco/AP: (-?[0-9.]+)', out)
    assert match, out[-2000:]
    assert -1.0 <= float(match.group(1)) <= 1.0
    scalars = list((work_dir / 'test').rglob('*.json'))
    assert any('coco/AP' in json.loads(line) for p in scalars
               for line in p.read_text().splitlines() if line.strip().startswith('{'))
