"""Two processes (torchrun; gloo on CPU, see rtmo_plugin/launch.py) train RTMO-s with its
SyncNormHook."""
import os
import socket
import subprocess
import sys

import pytest
import torch
from mmengine.runner import load_checkpoint

from helpers import REPO, build_model, load_config
from tiny_runs import make_tiny_data, tiny_config

pytestmark = pytest.mark.slow  # subprocess runs / training experiments

CONFIG = 'configs/rtmo/coco/rtmo-s_8xb32-600e_coco-640x640.py'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_two_processes_train_validate_and_save(coco_mini, tmp_path):
    cfg = load_config(CONFIG)
    assert any(h.type == 'SyncNormHook' for h in cfg.custom_hooks)
    # 4 images over 2 ranks, batch 1: 2 iterations per epoch and rank; validation after
    # epoch 2 (SyncNormHook averages the BN statistics of the ranks before it)
    tiny = tiny_config(cfg, make_tiny_data(coco_mini.parent, tmp_path / 'data'),
                       tmp_path / 'work', num_train=4, num_test=2, checkpoint=True)
    tiny.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2, val_interval=2)
    config = tmp_path / 'rtmo_two_processes.py'
    tiny.dump(str(config))

    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc-per-node', '2',
         '--master-port', str(free_port()), str(REPO / 'tools/train.py'), str(config),
         '--launcher', 'pytorch'],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]  # torchrun fails if any rank fails
    assert 'Distributed training: True' in log
    assert 'Epoch(train) [2][2/2]' in log  # 2 iterations per epoch: the data was split
    assert 'coco/AP' in log

    model = build_model(load_config(CONFIG))
    checkpoint = load_checkpoint(model, str(tmp_path / 'work' / 'epoch_2.pth'),
                                 map_location='cpu', strict=True)
    assert checkpoint['meta']['epoch'] == 2
    assert all(torch.isfinite(p).all() for p in model.state_dict().values()
               if p.is_floating_point())
