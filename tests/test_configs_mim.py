"""Downstream use of the installed package: `rtmo_plugin::` inheritance and `mim train/test
rtmo_plugin` from an unrelated directory."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from helpers import REPO, pipelines_config

DOWNSTREAM = '''
_base_ = ['rtmo_plugin::rtmo/coco/rtmo-s_8xb32-600e_coco-640x640.py']

# the one value this downstream project changes
model = dict(head=dict(loss_oks=dict(loss_weight=20.0)))

# tiny data and no downloads, for the test
input_size = (96, 96)
model.update(backbone=dict(init_cfg=None), data_preprocessor=dict(batch_augments=None),
             test_cfg=dict(input_size=input_size))
{pipelines}tiny = dict(type='CocoDataset', data_root='{data}/', data_mode='bottomup',
            ann_file='person_keypoints.json', data_prefix=dict(img=''))
loader = dict(num_workers=0, persistent_workers=False, pin_memory=False)
train_dataloader = dict(batch_size=1, dataset=dict(tiny, pipeline=train_pipeline, indices=1),
                        **loader)
val_dataloader = dict(batch_size=2, dataset=dict(tiny, test_mode=True, pipeline=val_pipeline,
                                                 indices=2), **loader)
test_dataloader = val_dataloader
val_evaluator = dict(ann_file='{data}/person_keypoints.json')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1, val_interval=100, dynamic_intervals=None)
default_hooks = dict(checkpoint=dict(interval=1), logger=dict(interval=1))
custom_hooks = []
'''


def write_downstream(folder: Path, coco_mini: Path) -> Path:
    path = folder / 'downstream_rtmo.py'
    path.write_text(DOWNSTREAM.replace('{data}', str(coco_mini))
                    .replace('{pipelines}', pipelines_config((96, 96))))
    return path


def test_downstream_config_inherits_ours_in_process(coco_mini, tmp_path):
    """Works in the development (editable) install as well: see rtmo_plugin/mim_anchor.py."""
    cfg = Config.fromfile(str(write_downstream(tmp_path, coco_mini)))
    assert cfg.model.head.loss_oks.loss_weight == 20.0
    assert cfg.model.head.loss_bbox.loss_weight == 5.0  # everything else is ours
    cfg.work_dir = str(tmp_path / 'work')
    init_default_scope('mmpose')
    runner = Runner.from_cfg(cfg)
    assert runner.model.head.loss_oks.loss_weight == 20.0
    runner.train()
    assert runner.iter == 1


def run(*args, cwd: Path, env: dict) -> str:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def installed_wheel(tmp_path_factory) -> Path:
    """This package built as a wheel and installed into a folder of its own."""
    root = tmp_path_factory.mktemp('wheel')
    source = root / 'source'  # a copy, so that the build leaves nothing in the repository
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(
        '.git', '.venv', 'data', 'work_dirs', 'results', 'build', '*.egg-info', '__pycache__',
        '.pytest_cache', '.ruff_cache'))
    env = dict(os.environ)
    run(sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation',
        source, '-w', root / 'dist', cwd=root, env=env)
    wheel = next((root / 'dist').glob('rtmo_plugin-*.whl'))
    run(sys.executable, '-m', 'pip', 'install', '-q', '--no-deps', '--target', root / 'site',
        wheel, cwd=root, env=env)
    return root / 'site'


@pytest.mark.slow
def test_mim_train_and_test_by_config_name_from_the_installed_wheel(installed_wheel, coco_mini,
                                                                    tmp_path):
    config = write_downstream(tmp_path, coco_mini)
    env = dict(os.environ, PYTHONPATH=str(installed_wheel), PYTHONUNBUFFERED='1')
    mim = Path(sys.executable).with_name('mim')
    work_dir = tmp_path / 'work'
    run(mim, 'train', 'rtmo_plugin', config, '--work-dir', work_dir, cwd=tmp_path, env=env)
    checkpoint = work_dir / 'epoch_1.pth'
    state = torch.load(checkpoint, map_location='cpu', weights_only=False)['state_dict']
    assert 'head.dcc.x_fc.weight' in state
    assert 'loss_weight=20.0' in (work_dir / config.name).read_text()

    data = f'{coco_mini}/'
    out = run(mim, 'test', 'rtmo_plugin', 'rtmo-s_8xb32-600e_coco-640x640.py',
              '--checkpoint', checkpoint, '--work-dir', tmp_path / 'test', '--cfg-options',
              'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
              f'test_dataloader.dataset.data_root={data}',
              'test_dataloader.dataset.ann_file=person_keypoints.json',
              f'test_dataloader.dataset.data_prefix.img={data}',
              'test_dataloader.dataset.indices=1',
              f'test_evaluator.ann_file={data}person_keypoints.json', cwd=tmp_path, env=env)
    found = re.search(r'find the config file in codebase rtmo_plugin, will use (\S+)', out)
    assert found and str(installed_wheel) in found.group(1), out[-2000:]
    assert re.search(r'coco/AP: -?[0-9.]+', out), out[-2000:]


@pytest.mark.slow
def test_mim_finds_the_tools_and_configs_of_this_environments_install(tmp_path):
    """What `mim train/test rtmo_plugin` look up first, from an unrelated directory.

    In `make install`'s editable (PEP 660) install pkg_resources places the package in
    site-packages, where the code is not; tools/install.sh puts the clone first on the
    path so that mim finds it. A regular install passes this as it is.
    """
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    proc = subprocess.run(
        [sys.executable, '-c',
         'from mim.utils import get_installed_path; print(get_installed_path("rtmo_plugin"))'],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    root = Path(proc.stdout.strip().splitlines()[-1])
    assert (root / '.mim/tools/train.py').is_file(), (
        f'mim looks in {root}: run tools/install.sh (or `pip install .`) to install the package')
    assert (root / '.mim/configs/rtmo/coco/rtmo-s_8xb32-600e_coco-640x640.py').is_file()
