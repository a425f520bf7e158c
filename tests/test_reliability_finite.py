"""Non-finite losses and gradients: the step is skipped, the loss term named, the run stopped
after too many bad steps in a row."""
import copy
from pathlib import Path

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapper
from reliability_fixtures import tiny_cfg, write_tiny_set
from torch import nn

from rtmo_plugin.engine.finite import (
    FiniteAmpOptimWrapper,
    FiniteOptimWrapper,
    NonFiniteLossError,
    NonFiniteLossHook,
    non_finite_terms,
)
from rtmo_plugin.engine.optim import MergedGroupsOptimWrapperConstructor


def tiny_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))


def state(net: nn.Module, wrapper) -> tuple:
    return (copy.deepcopy(net.state_dict()), copy.deepcopy(wrapper.optimizer.state_dict()))


def assert_same(a: tuple, b: tuple) -> None:
    for key in a[0]:
        assert torch.equal(a[0][key], b[0][key]), key
    assert repr(a[1]) == repr(b[1])


def step(net, wrapper, x, scale=1.0):
    with wrapper.optim_context(net):
        loss = net(x).pow(2).mean() * scale
    wrapper.update_params(loss)


def test_nan_loss_leaves_weights_optimiser_and_bn_statistics_untouched():
    net = tiny_net()
    wrapper = FiniteOptimWrapper(torch.optim.AdamW(net.parameters(), lr=0.1),
                                 clip_grad=dict(max_norm=0.1))
    x = torch.randn(8, 3)
    step(net, wrapper, x)  # a good step: AdamW has state now
    before = state(net, wrapper)
    step(net, wrapper, x, scale=float('nan'))
    assert_same(before, state(net, wrapper))
    assert all(p.grad is None or not p.grad.any() for p in net.parameters())
    assert wrapper.skipped_steps == 1 and wrapper.consecutive_bad_steps == 1
    step(net, wrapper, x)  # training goes on
    assert wrapper.consecutive_bad_steps == 0
    assert not torch.equal(before[0]['0.weight'], net.state_dict()['0.weight'])


def test_nan_features_do_not_poison_batchnorm():
    net = tiny_net()
    wrapper = FiniteOptimWrapper(torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9))
    step(net, wrapper, torch.randn(8, 3))
    before = state(net, wrapper)
    x = torch.randn(8, 3)
    x[0, 1] = float('inf')
    step(net, wrapper, x)
    assert_same(before, state(net, wrapper))


def test_finite_loss_with_nan_gradient_is_skipped():
    net = tiny_net()
    wrapper = FiniteOptimWrapper(torch.optim.AdamW(net.parameters(), lr=0.1))
    step(net, wrapper, torch.randn(8, 3))
    before = state(net, wrapper)
    handle = net[2].weight.register_hook(lambda grad: grad * float('nan'))
    step(net, wrapper, torch.randn(8, 3))
    handle.remove()
    assert_same(before, state(net, wrapper))
    assert wrapper.skipped_steps == 1


def test_consecutive_bad_steps_stop_with_a_clear_error():
    net = tiny_net()
    wrapper = FiniteOptimWrapper(torch.optim.SGD(net.parameters(), lr=0.1),
                                 max_consecutive_bad_steps=3)
    wrapper.bad_terms = ['loss_oks']
    x = torch.randn(8, 3)
    step(net, wrapper, x, float('nan'))
    step(net, wrapper, x)  # a good step resets the count
    step(net, wrapper, x, float('nan'))
    step(net, wrapper, x, float('inf'))
    with pytest.raises(NonFiniteLossError, match=r'3 consecutive .*loss_oks.*'
                       r'max_consecutive_bad_steps=3'):
        step(net, wrapper, x, float('nan'))
    with pytest.raises(ValueError, match='max_consecutive_bad_steps'):
        FiniteOptimWrapper(torch.optim.SGD(net.parameters(), lr=0.1),
                           max_consecutive_bad_steps=0)


def test_amp_wrapper_checks_the_loss(monkeypatch):
    """Under AMP the GradScaler skips inf/NaN gradients; the wrapper skips NaN losses (run
    here on a CPU, where mmengine's AmpOptimWrapper otherwise refuses to be built)."""
    from mmengine.optim.optimizer import amp_optimizer_wrapper
    monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available', lambda: True)
    net = tiny_net()
    with pytest.warns(UserWarning):  # GradScaler: CUDA is not available, disabled
        wrapper = FiniteAmpOptimWrapper(optimizer=torch.optim.AdamW(net.parameters(), lr=0.1),
                                        max_consecutive_bad_steps=2)
    assert not wrapper.check_grads
    x = torch.randn(8, 3)
    step(net, wrapper, x)
    before = state(net, wrapper)
    step(net, wrapper, x, float('nan'))
    assert_same(before, state(net, wrapper))
    with pytest.raises(NonFiniteLossError):
        step(net, wrapper, x, float('nan'))


def test_built_by_the_repo_constructor_from_a_config():
    from mmengine.registry import init_default_scope
    init_default_scope('mmpose')  # as the Runner does for our configs
    net = tiny_net()
    wrapper = MergedGroupsOptimWrapperConstructor(
        dict(type='FiniteOptimWrapper', max_consecutive_bad_steps=7,
             optimizer=dict(type='AdamW', lr=0.004, weight_decay=0.05)),
        dict(norm_decay_mult=0, bias_decay_mult=0))(net)
    assert isinstance(wrapper, FiniteOptimWrapper) and isinstance(wrapper, OptimWrapper)
    assert wrapper.max_consecutive_bad_steps == 7
    assert len(wrapper.optimizer.param_groups) == 2  # merged: decay / no decay


def test_non_finite_terms_names_the_bad_ones():
    log_vars = dict(loss=torch.tensor(float('nan')), loss_bbox=torch.tensor(1.0),
                    loss_mle=torch.tensor(float('nan')), overlaps=torch.tensor(float('nan')))
    assert non_finite_terms(log_vars) == ['loss_mle']
    assert non_finite_terms(dict(loss=torch.tensor(float('inf')))) == ['loss']
    assert non_finite_terms(dict(loss=torch.tensor(2.0))) == []


class WeightsAroundStep(Hook):
    """Records the weights before and after the iteration that sees image ``bad_id``."""

    priority = 'HIGHEST'

    def __init__(self, bad_id: int) -> None:
        self.bad_id, self.before, self.after, self.iters = bad_id, None, None, 0

    def _has_bad(self, data_batch) -> bool:
        return any(s.img_id == self.bad_id for s in data_batch['data_samples'])

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if self._has_bad(data_batch):
            self.before = copy.deepcopy(runner.model.state_dict())

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.iters += 1
        if self._has_bad(data_batch):
            self.after = copy.deepcopy(runner.model.state_dict())


class NanLossTerm(WeightsAroundStep):
    """Also makes the OKS loss NaN in the iteration that sees image ``bad_id``."""

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        super().before_train_iter(runner, batch_idx, data_batch)
        if self._has_bad(data_batch):
            runner.model.head.loss_oks.loss_weight = float('nan')

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        runner.model.head.loss_oks.loss_weight = 30.0


@pytest.mark.slow
def test_nan_loss_term_in_training_skips_the_step_and_names_the_term(tmp_path):
    """A NaN loss term in one iteration of a real run (NaN data is dropped before training,
    so it is injected into the loss here): the step is skipped, weights and BatchNorm
    statistics after it equal those before, the log names the term, the run goes on."""
    from mmengine.runner import Runner
    write_tiny_set(tmp_path / 'data')
    cfg = tiny_cfg(tmp_path / 'data', tmp_path / 'work', batch_size=1)
    recorder = NanLossTerm(bad_id=2)
    runner = Runner.from_cfg(cfg)
    runner.register_hook(recorder)
    runner.train()
    assert recorder.iters == 4  # every iteration ran
    assert recorder.before is not None and recorder.after is not None
    for key, value in recorder.before.items():
        assert torch.equal(value, recorder.after[key]), key
    assert runner.optim_wrapper.skipped_steps == 1
    logged = (Path(runner.log_dir) / f'{runner.timestamp}.log').read_text()
    assert 'non-finite loss terms loss_oks=nan' in logged, logged[-2000:]
    assert 'optimiser step skipped (weights unchanged)' in logged
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())


def test_hook_is_in_the_base_config():
    from rtmo_plugin.build import load_config
    cfg = load_config('configs/rtmo/coco/rtmo-s_8xb32-600e_coco-640x640.py')
    assert cfg.optim_wrapper.type == 'FiniteOptimWrapper'
    assert cfg.default_hooks.non_finite.type == NonFiniteLossHook.__name__


# weights after the step ---------------------------------------------------------------


def test_a_step_that_makes_weights_non_finite_is_undone_and_counted():
    """Finite loss and gradients, but the step overflows (lr 1e30 on gradients of 1e12):
    weights and the momentum are put back as they were before it, and the wrapper counts it
    like any bad step."""
    net = tiny_net()
    wrapper = FiniteOptimWrapper(torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9),
                                 max_consecutive_bad_steps=2)
    x = torch.randn(8, 3)
    step(net, wrapper, x)  # a good step: SGD has its momentum buffers now
    wrapper.optimizer.param_groups[0]['lr'] = 1e30
    before = state(net, wrapper)
    step(net, wrapper, x, scale=1e12)
    assert_same(before, state(net, wrapper))
    assert all(torch.isfinite(p).all() for p in net.parameters())
    assert wrapper.skipped_steps == 1 and wrapper.consecutive_bad_steps == 1
    with pytest.raises(NonFiniteLossError, match='2 consecutive .*non-finite weight'):
        step(net, wrapper, x, scale=1e12)
    wrapper.optimizer.param_groups[0]['lr'] = 0.1
    wrapper.consecutive_bad_steps = 0
    step(net, wrapper, x)  # back to a sane lr: training goes on from the kept weights
    assert wrapper.consecutive_bad_steps == 0
    assert not torch.equal(before[0]['0.weight'], net.state_dict()['0.weight'])


def test_the_first_step_of_a_fresh_optimiser_is_undone_without_state():
    net = tiny_net()
    wrapper = FiniteOptimWrapper(torch.optim.SGD(net.parameters(), lr=1e30, momentum=0.9))
    weights = copy.deepcopy(net.state_dict())
    step(net, wrapper, torch.randn(8, 3), scale=1e12)
    assert all(torch.equal(weights[k], v) for k, v in net.state_dict().items())
    assert not wrapper.optimizer.state  # no momentum buffer from the undone step
    unchecked = FiniteOptimWrapper(torch.optim.SGD(net.parameters(), lr=1e30),
                                   check_weights=False)
    step(net, unchecked, torch.randn(8, 3), scale=1e12)
    assert not all(torch.isfinite(p).all() for p in net.parameters())


@pytest.mark.slow
def test_a_diverging_learning_rate_stops_with_the_guards_error(tmp_path):
    """lr 1e12 on the demo model: the first step leaves huge but finite weights, the next
    forward pass overflows. The assigner takes the non-finite predictions (it used to fail
    with 'all elements of input should be between 0 and 1'), the loss is non-finite, the
    steps are skipped and the run stops with NonFiniteLossError."""
    from mmengine.runner import Runner
    write_tiny_set(tmp_path / 'data')
    cfg = tiny_cfg(tmp_path / 'data', tmp_path / 'work', epochs=2, batch_size=2)
    cfg.optim_wrapper.optimizer.lr = 1e12
    cfg.optim_wrapper.max_consecutive_bad_steps = 2
    runner = Runner.from_cfg(cfg)
    with pytest.raises(NonFiniteLossError, match='2 consecutive optimiser steps had a '
                       r'non-finite loss.*a learning rate that is too high \(now up to 1e\+12\)'):
        runner.train()
    assert runner.optim_wrapper.skipped_steps == 2
