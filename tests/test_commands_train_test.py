"""`python tools/train.py CONFIG` and `python tools/test.py CONFIG CKPT` as a user runs them:
fresh processes, from an unrelated directory, on a tiny generated set. (`mim train/test` are
run in test_configs_mim.py and test_mim_e2e.py, `tools/demo.py` in test_demo.py,
`torchrun ... tools/train.py` in test_configs_distributed.py.)"""
import os
import re
import subprocess
import sys

import pytest
from reliability_fixtures import write_tiny_config

from helpers import REPO

pytestmark = pytest.mark.slow  # subprocess runs / training experiments


def run(tool: str, *args, cwd) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    return subprocess.run([sys.executable, str(REPO / 'tools' / f'{tool}.py'),
                           *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture
def config_file(tmp_path):
    return write_tiny_config(tmp_path, tmp_path / 'unused', checkpoint=True)


def test_train_then_test_in_fresh_processes(config_file, tmp_path):
    cwd = tmp_path / 'elsewhere'
    cwd.mkdir()
    work_dir = tmp_path / 'work'
    proc = run('train', config_file, '--work-dir', work_dir, cwd=cwd)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    checkpoint = work_dir / 'epoch_1.pth'
    assert checkpoint.is_file()
    assert not (work_dir / '.train.lock').exists()  # released when the run ended

    proc = run('test', config_file, checkpoint, '--work-dir', tmp_path / 'test', cwd=cwd)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert re.search(r'coco/AP: -?[0-9.]+', proc.stdout + proc.stderr), proc.stdout[-2000:]


def test_a_refusal_is_one_line_without_a_traceback(config_file, tmp_path):
    proc = run('train', config_file, '--cfg-options', 'max_epoch=1', cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith('error: --cfg-options max_epoch=1: ') and last.endswith(
        'did you mean train_cfg.max_epochs?'), proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr
