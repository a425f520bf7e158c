"""ChannelsLastHook: NHWC training without touching the optimiser or the values."""
from types import SimpleNamespace

import torch
from torch import nn

from rtmo_plugin.engine import ChannelsLastHook


def test_channels_last_hook_keeps_parameters_and_values():
    """NHWC weights make the convolutions run NHWC; same Parameter objects, same outputs."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.SiLU(),
                          nn.Conv2d(8, 4, 1), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    optimizer = torch.optim.AdamW(model.parameters())
    x = torch.randn(2, 3, 6, 6)
    before = model(x)
    ChannelsLastHook().before_run(SimpleNamespace(model=model))
    weight = model[0].weight
    assert weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous()
    assert optimizer.param_groups[0]['params'][0] is weight  # the optimiser still trains it
    assert model[1](model[0](x)).is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(model(x), before, rtol=1e-5, atol=1e-6)


def test_merged_groups_train_exactly_like_mmposes_per_parameter_groups():
    from mmpose.engine.optim_wrappers import ForceDefaultOptimWrapperConstructor

    from rtmo_plugin.engine import MergedGroupsOptimWrapperConstructor

    def model():
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Conv2d(8, 4, 1),
                             nn.Flatten(), nn.Linear(4 * 4 * 4, 2))

    cfg = dict(optimizer=dict(type='AdamW', lr=0.01, weight_decay=0.5),
               paramwise_cfg=dict(norm_decay_mult=0, bias_decay_mult=0, bypass_duplicate=True,
                                  force_default_settings=True,
                                  custom_keys={'4': dict(lr_mult=0.0, decay_mult=0.0)}))
    x = torch.randn(2, 3, 6, 6)
    results = []
    for constructor in (ForceDefaultOptimWrapperConstructor, MergedGroupsOptimWrapperConstructor):
        net = model()
        wrapper = constructor(dict(optimizer=cfg['optimizer']), cfg['paramwise_cfg'])(net)
        for _ in range(3):
            wrapper.update_params(net(x).square().sum())
        groups = wrapper.optimizer.param_groups
        results.append((len(groups), [p.detach().clone() for p in net.parameters()],
                        sorted((len(g['params']), g['lr'], g['weight_decay']) for g in groups)))
    (per_param, ref, _), (merged, ours, settings) = results
    assert per_param == 8 and merged == 3, (per_param, merged)
    # conv weights decay; norms and biases do not; the frozen Linear neither moves nor decays
    assert settings == [(2, 0.0, 0.0), (2, 0.01, 0.5), (4, 0.01, 0.0)]
    for a, b in zip(ref, ours):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
