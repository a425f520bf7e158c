"""Mixed precision on a CPU: bf16 autocast where the CPU has AVX512-BF16 / AMX, fp32 (said in
the log) where it has not, the non-finite guard unchanged, and `tools/train.py --amp` training
on a CPU instead of stopping at mmengine's `AmpOptimizerWrapper is only available ...`."""
import copy
import logging
import os
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from reliability_fixtures import tiny_cfg, write_tiny_set
from torch import nn

from helpers import REPO
from rtmo_plugin.engine import amp
from rtmo_plugin.engine.amp import Bf16OptimWrapper, FiniteBf16OptimWrapper, cpuinfo_flags
from rtmo_plugin.engine.run_settings import SettingsError


def tiny_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.LazyLinear(1))


def make_wrapper(net, cls=FiniteBf16OptimWrapper, **kwargs):
    net(torch.randn(2, 3, 6, 6))  # materialise the lazy layer
    return cls(optimizer=torch.optim.AdamW(net.parameters(), lr=0.1), **kwargs)


@pytest.fixture
def bf16_cpu(monkeypatch):
    """What this CPU says is ignored: each test sets whether it has bf16 hardware."""
    def set_bf16(present: bool) -> None:
        monkeypatch.setattr(amp, 'cpu_has_bf16', lambda: present)
    return set_bf16


@pytest.fixture
def log_records():
    """Records of mmengine's current logger (print_log(..., logger='current'))."""
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


@pytest.mark.parametrize('cls', [FiniteBf16OptimWrapper, Bf16OptimWrapper])
def test_forward_runs_under_bf16_autocast_on_a_cpu_with_bf16(cls, bf16_cpu, log_records):
    bf16_cpu(True)
    net = tiny_net()
    wrapper = make_wrapper(net, cls)
    with wrapper.optim_context(net):
        assert torch.is_autocast_enabled('cpu')
        assert torch.get_autocast_dtype('cpu') == torch.bfloat16
        assert net[0](torch.randn(1, 3, 6, 6)).dtype == torch.bfloat16
        loss = net(torch.randn(2, 3, 6, 6)).float().square().mean()
    assert not torch.is_autocast_enabled('cpu')
    before = net[0].weight.detach().clone()
    wrapper.update_params(loss)
    state = wrapper.optimizer.state[net[0].weight]  # fp32 weights, gradients, AdamW state
    assert net[0].weight.dtype == state['exp_avg'].dtype == torch.float32
    assert not torch.equal(before, net[0].weight)
    assert any('training under bf16 autocast on cpu' in r.getMessage() for r in log_records)


def test_fp32_and_a_clear_log_line_on_a_cpu_without_bf16(bf16_cpu, log_records):
    bf16_cpu(False)
    net = tiny_net()
    wrapper = make_wrapper(net)
    for _ in range(2):
        with wrapper.optim_context(net):
            assert not torch.is_autocast_enabled('cpu')
            assert net[0](torch.randn(1, 3, 6, 6)).dtype == torch.float32
    said = [r for r in log_records if 'training in fp32' in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.WARNING  # once, not every step
    assert 'no AVX512-BF16 or AMX' in said[0].getMessage()


@pytest.mark.parametrize('bad', ['loss', 'gradient'])
def test_the_non_finite_guard_skips_and_counts_a_bad_step_under_autocast(bad, bf16_cpu):
    bf16_cpu(True)
    net = tiny_net()
    wrapper = make_wrapper(net, max_consecutive_bad_steps=3)
    x = torch.randn(4, 3, 6, 6)

    def step(scale=1.0):
        with wrapper.optim_context(net):
            loss = net(x).float().square().mean() * scale
        wrapper.update_params(loss)

    step()  # AdamW has state now
    before = copy.deepcopy((net.state_dict(), wrapper.optimizer.state_dict()))
    if bad == 'loss':
        step(scale=float('nan'))
    else:
        handle = net[3].weight.register_hook(lambda grad: grad * float('nan'))
        step()
        handle.remove()
    for key, value in before[0].items():  # weights and BatchNorm statistics untouched
        assert torch.equal(value, net.state_dict()[key]), key
    assert repr(before[1]) == repr(wrapper.optimizer.state_dict())
    assert wrapper.skipped_steps == 1 and wrapper.consecutive_bad_steps == 1
    step()
    assert wrapper.consecutive_bad_steps == 0


def test_only_bfloat16_and_amp_checkpoints_load(bf16_cpu):
    bf16_cpu(True)
    with pytest.raises(ValueError, match=r"optim_wrapper.dtype='float16'.*'bfloat16'"):
        make_wrapper(tiny_net(), dtype='float16')
    net = tiny_net()
    wrapper = make_wrapper(net)
    state = dict(wrapper.state_dict(), loss_scaler={'scale': 65536.0})  # AmpOptimWrapper's
    wrapper.load_state_dict(state)
    assert wrapper.optimizer.state_dict()['param_groups'][0]['lr'] == 0.1


def test_cpuinfo_flags_of_x86_and_arm(tmp_path):
    x86 = tmp_path / 'x86'
    x86.write_text('processor\t: 0\nflags\t\t: fpu avx512f avx512_bf16 avx512_vnni\n\n'
                   'processor\t: 1\nflags\t\t: fpu avx512f avx512_bf16 avx512_vnni\n')
    arm = tmp_path / 'arm'
    arm.write_text('processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\n')
    assert {'avx512_bf16', 'avx512_vnni', 'fpu'} <= cpuinfo_flags(str(x86))
    assert 'bf16' in cpuinfo_flags(str(arm))
    assert cpuinfo_flags(str(tmp_path / 'missing')) == set()


@pytest.mark.parametrize('accelerator', [False, True])
@pytest.mark.parametrize('config_type,expected', [
    ('FiniteOptimWrapper', ('FiniteBf16OptimWrapper', 'FiniteAmpOptimWrapper')),
    ('OptimWrapper', ('Bf16OptimWrapper', 'AmpOptimWrapper'))])
def test_train_amp_picks_the_wrapper_of_the_device(accelerator, config_type, expected,
                                                  monkeypatch):
    monkeypatch.setattr(amp, 'accelerator_available', lambda: accelerator)
    cfg = Config(dict(optim_wrapper=dict(type=config_type, loss_scale=512.0,
                                         optimizer=dict(type='AdamW', lr=0.1))))
    amp.apply_amp(cfg)
    assert cfg.optim_wrapper.type == expected[accelerator]
    assert ('loss_scale' in cfg.optim_wrapper) == accelerator  # bf16 needs no loss scaling
    cfg.optim_wrapper.dtype = 'float16'
    if not accelerator:
        with pytest.raises(SettingsError, match='--amp on a CPU autocasts to bfloat16'):
            amp.apply_amp(cfg)


@pytest.mark.slow
def test_train_amp_on_a_cpu_in_a_fresh_process(tmp_path):
    """`tools/train.py CONFIG --amp` as a user runs it: two iterations of the demo model."""
    write_tiny_set(tmp_path / 'data')
    config = tmp_path / 'tiny_rtmo.py'
    Config(tiny_cfg(tmp_path / 'data', tmp_path / 'unused').to_dict()).dump(str(config))
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    proc = subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'train.py'), str(config), '--amp',
         '--work-dir', str(tmp_path / 'work')],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert 'only available training on gpu' not in out
    expected = ('training under bf16 autocast on cpu' if amp.cpu_has_bf16()
                else 'training in fp32')
    assert f'FiniteBf16OptimWrapper: {expected}' in out, out[-4000:]
    assert out.count('Epoch(train) [1][2/2]') == 1, out[-4000:]  # both iterations ran
