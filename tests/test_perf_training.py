"""How the plugin's RTMO configs train fast on a CPU: channels-last weights (``ChannelsLastHook``)
and Swish with a one-kernel backward (``FusedSwishHook``), both in the base's default hooks so
that configs which restate ``custom_hooks`` keep them; the benchmark times the plugin's training
step as its config trains it."""
from pathlib import Path

import pytest
import torch
from mmcv.cnn.bricks.swish import Swish
from mmengine.config import Config
from torch import nn

from rtmo_plugin.build import load_config
from rtmo_plugin.engine.swish import FusedGradSwish, FusedSwishHook, fuse_swish_grads
from rtmo_plugin.lab.benchmark import as_trained, hook_types

REPO = Path(__file__).resolve().parents[1]
RTMO_CONFIGS = sorted(str(p.relative_to(REPO))
                      for p in (REPO / 'configs' / 'rtmo').rglob('rtmo-*.py'))


@pytest.mark.parametrize('config', RTMO_CONFIGS)
def test_every_rtmo_config_trains_with_the_speed_hooks(config):
    assert {'ChannelsLastHook', 'FusedSwishHook'} <= hook_types(load_config(config)), config


def test_the_cpu_demos_train_channels_last_with_autograds_swish():
    for config in ('configs/demo/rtmo-demo_synthetic-128x128.py',
                   'configs/demo/rtmo-demo_coco-mini-320x320.py'):
        types = hook_types(load_config(config))
        assert 'ChannelsLastHook' in types and 'FusedSwishHook' not in types, config


def test_fused_grad_swish_has_swishs_values_and_gradient():
    x = torch.linspace(-30, 30, 2001, dtype=torch.float64)
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    ya, yb = Swish()(a), FusedGradSwish(inplace=True)(b)
    assert torch.equal(ya, yb)  # bit for bit: predictions and losses unchanged
    grad = torch.randn_like(x)
    ya.backward(grad)
    yb.backward(grad)
    torch.testing.assert_close(b.grad, a.grad, rtol=1e-12, atol=1e-12)
    x32 = torch.randn(2, 8, 5, 5).contiguous(memory_format=torch.channels_last)
    assert torch.equal(Swish()(x32), FusedGradSwish()(x32))
    # a bf16 input (autocast) is computed in fp32 and rounded once
    x16 = x32.bfloat16()
    assert torch.equal(FusedGradSwish()(x16), Swish()(x16.float()).bfloat16())


def test_the_hook_swaps_every_swish_and_keeps_outputs_and_weights():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), Swish(), nn.Sequential(nn.Conv2d(4, 4, 1), Swish()),
                          nn.SiLU())
    x = torch.randn(2, 3, 8, 8)
    before, state = model(x), {k: v.clone() for k, v in model.state_dict().items()}

    class Runner:
        pass

    runner = Runner()
    runner.model = model
    FusedSwishHook().before_run(runner)
    assert [type(m).__name__ for m in model.modules()].count('FusedGradSwish') == 2
    assert not any(isinstance(m, Swish) for m in model.modules())
    assert torch.equal(model(x), before)
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    assert fuse_swish_grads(model) == 0  # nothing left to swap
    off = nn.Sequential(Swish())
    runner.model = off
    FusedSwishHook(enabled=False).before_run(runner)
    assert isinstance(off[0], Swish)


def test_as_trained_applies_the_configs_speed_hooks_to_a_copy():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), Swish())
    both = Config(dict(default_hooks=dict(channels_last=dict(type='ChannelsLastHook'),
                                          fused_swish=dict(type='FusedSwishHook'))))
    copy = as_trained(model, both)
    assert copy is not model and isinstance(copy[2], FusedGradSwish)
    assert copy[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert isinstance(model[2], Swish)  # the original is unchanged
    assert not model[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(copy[0].weight, model[0].weight)
    only_custom = as_trained(model, Config(dict(custom_hooks=[dict(type='ChannelsLastHook')])))
    assert isinstance(only_custom[2], Swish)
    assert only_custom[0].weight.is_contiguous(memory_format=torch.channels_last)
    plain = Config(dict(default_hooks=dict(logger=dict(type='LoggerHook')), custom_hooks=[]))
    assert as_trained(model, plain) is model
