"""Skip optimiser steps whose loss or gradients are not finite, and say which loss went bad.

One NaN (a NaN keypoint in an annotation, a NaN/inf feature) used to reach
``optimizer.step()``: AdamW turned most weights into NaN, gradient clipping did not help
(the norm of a NaN gradient is NaN), and the next iteration crashed in the assigner with a
message that never says NaN. The two optimiser wrappers here check

- the loss before ``backward`` (both wrappers),
- the gradients after ``backward``, before the step (:class:`FiniteOptimWrapper`; under AMP
  the ``GradScaler`` already skips steps with inf/NaN gradients and lowers its scale), and
- the weights after the step, before the next forward pass and the assigner see them (both
  wrappers, ``check_weights``): a diverged step (a learning rate of 1e12) can turn finite
  gradients into inf/NaN weights. The weights and the optimiser state are copied before each
  step and put back when the step left any weight non-finite,

and skip the step: weights, optimiser state and the model's buffers (BatchNorm statistics,
copied when the forward pass starts) untouched, gradients zeroed. After
``max_consecutive_bad_steps`` bad steps in a row they raise :class:`NonFiniteLossError`.
Weights that a step left finite but so large that the next forward pass overflows give a
non-finite loss there (the assigner takes non-finite predictions without failing), which is
skipped and counted in the same way.
:class:`NonFiniteLossHook` logs which loss terms of the iteration went non-finite (it reads
the log variables the model returns) and passes the names on to the wrapper's error.

Config (the base configs do this)::

    optim_wrapper = dict(type='FiniteOptimWrapper', max_consecutive_bad_steps=5, ...)
    default_hooks = dict(non_finite=dict(type='NonFiniteLossHook'))

``tools/train.py --amp`` picks :class:`FiniteAmpOptimWrapper` for ``FiniteOptimWrapper`` on
a GPU and :class:`~rtmo_plugin.engine.amp.FiniteBf16OptimWrapper` (bf16 autocast, the same
checks as ``FiniteOptimWrapper``) on a CPU.
"""
from __future__ import annotations

import copy
import logging
from contextlib import contextmanager
from typing import Dict, List, Optional

import torch
from mmengine.dist import is_distributed
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmpose.registry import HOOKS, OPTIM_WRAPPERS
from torch import Tensor, nn


class NonFiniteLossError(RuntimeError):
    """Raised after too many consecutive steps with a non-finite loss or gradient."""


def non_finite_terms(log_vars: Dict[str, object]) -> List[str]:
    """Names of the loss terms (keys containing ``loss``) whose value is NaN or inf."""
    bad = []
    for key, value in log_vars.items():
        if 'loss' not in key:
            continue
        value = value.detach().float() if isinstance(value, Tensor) else torch.tensor(value)
        if not bool(torch.isfinite(value).all()):
            bad.append(key)
    return [k for k in bad if k != 'loss'] or bad  # the total only when nothing else


def tensors_finite(tensors) -> bool:
    """Whether every element of ``tensors`` is finite (one device sync).

    One fused float32 L1 norm per tensor: NaN and inf give a non-finite norm (so would a sum
    of magnitudes over 3e38, which only diverged weights reach)."""
    tensors = [t.detach() for t in tensors]
    if not tensors:
        return True
    norms = torch._foreach_norm(tensors, 1, dtype=torch.float32)
    return bool(torch.isfinite(torch.stack([n.to(norms[0].device) for n in norms])).all())


def gradients_finite(params) -> bool:
    """Whether every gradient of ``params`` is finite (one device sync)."""
    return tensors_finite(p.grad for p in params if p.grad is not None)


def _params(optimizer) -> List[Tensor]:
    return [p for group in optimizer.param_groups for p in group['params']]


class StepSnapshot:
    """The parameters and the optimiser state before a step, to put back after it.

    Copied into buffers kept from step to step (``torch._foreach_copy_``, one call): about
    5 ms per step for the demo model's 2.5 M parameters and AdamW state on one CPU thread.
    """

    def __init__(self) -> None:
        self._tensors: List[Tensor] = []
        self._buffers: List[Tensor] = []
        self._state: Dict[Tensor, dict] = {}  # param -> its state dict's entries

    @torch.no_grad()
    def take(self, optimizer) -> None:
        self._state = {p: {k: v if isinstance(v, Tensor) else copy.deepcopy(v)
                           for k, v in state.items()} for p, state in optimizer.state.items()}
        tensors = _params(optimizer) + [
            v for state in self._state.values() for v in state.values()
            if isinstance(v, Tensor)]
        if len(tensors) != len(self._tensors) or any(
                a is not b for a, b in zip(tensors, self._tensors)):
            self._buffers = [torch.empty_like(t) for t in tensors]  # keeps memory formats
        self._tensors = tensors
        if tensors:
            torch._foreach_copy_(self._buffers, tensors)

    @torch.no_grad()
    def restore(self, optimizer) -> None:
        if self._tensors:
            torch._foreach_copy_(self._tensors, self._buffers)
        for param in list(optimizer.state):
            if param in self._state:  # the same tensor objects, holding the old values
                optimizer.state[param] = dict(self._state[param])
            else:  # its first step: it had no state before
                del optimizer.state[param]


class FiniteGuardMixin:
    """Skips updates with a non-finite loss (and, if ``check_grads``, gradients).

    Args:
        max_consecutive_bad_steps: raise :class:`NonFiniteLossError` at this many bad
            steps in a row (a good step resets the count).
        check_grads: check the gradients before each step as well.
        check_weights: check the weights after each step, and put them and the optimiser
            state back when they went non-finite (costs a copy of both per step).
    """

    def _init_guard(self, max_consecutive_bad_steps: int, check_grads: bool,
                    check_weights: bool = True) -> None:
        if not isinstance(max_consecutive_bad_steps, int) or max_consecutive_bad_steps < 1:
            raise ValueError(f'optim_wrapper.max_consecutive_bad_steps='
                             f'{max_consecutive_bad_steps!r} must be an integer >= 1')
        self.max_consecutive_bad_steps = max_consecutive_bad_steps
        self.check_grads = check_grads
        self.check_weights = check_weights
        self._snapshot = StepSnapshot()
        self.consecutive_bad_steps = 0
        self.skipped_steps = 0
        self.bad_terms: List[str] = []  # filled in by NonFiniteLossHook

    @contextmanager
    def optim_context(self, model: nn.Module):
        """The wrappers' forward context; keeps a copy of the model's buffers (BatchNorm
        statistics, a few kB) so that a skipped step leaves them untouched as well."""
        self._saved_buffers = [(b, b.detach().clone()) for b in model.buffers()]
        with super().optim_context(model):
            yield

    def _restore_buffers(self) -> None:
        with torch.no_grad():
            for buffer, saved in getattr(self, '_saved_buffers', []):
                buffer.copy_(saved)

    def update_params(self, loss: Tensor, step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        finite = bool(torch.isfinite(loss.detach()).all())
        if not finite and not is_distributed():
            # no backward: the accumulation window is dropped, nothing is stepped
            self._inner_count += 1
            self.zero_grad(**(zero_kwargs or {}))
            self._restore_buffers()
            self._bad_step(f'loss ({loss.detach().float().item()})')
            return
        # several processes: every one runs backward (DDP's gradient all-reduce must not
        # wait for a process that skipped it); the averaged gradients are then non-finite
        # on all of them, and step() skips on all of them alike
        super().update_params(loss, step_kwargs, zero_kwargs)
        if not finite and not self.check_grads:  # AMP: the GradScaler skipped the step
            self._restore_buffers()
            self._bad_step(f'loss ({loss.detach().float().item()})')

    def step(self, **kwargs) -> None:
        if self.check_grads and not gradients_finite(_params(self.optimizer)):
            self.zero_grad()
            self._restore_buffers()
            self._bad_step('gradient')
            return
        if self.check_weights:
            self._snapshot.take(self.optimizer)
        super().step(**kwargs)
        if self.check_weights and not tensors_finite(_params(self.optimizer)):
            self._snapshot.restore(self.optimizer)
            self.zero_grad()
            self._restore_buffers()
            self._bad_step('weight after the step')
            return
        self.consecutive_bad_steps = 0
        self._saved_buffers = []

    def _bad_step(self, what: str) -> None:
        self.consecutive_bad_steps += 1
        self.skipped_steps += 1
        print_log(f'non-finite {what}: optimiser step skipped (weights unchanged), '
                  f'{self.consecutive_bad_steps} in a row', logger='current',
                  level=logging.WARNING)
        if self.consecutive_bad_steps >= self.max_consecutive_bad_steps:
            terms = f' (non-finite loss terms: {", ".join(self.bad_terms)})' \
                if self.bad_terms else ''
            raise NonFiniteLossError(
                f'{self.consecutive_bad_steps} consecutive optimiser steps had a non-finite '
                f'{what.split()[0]}{terms}; stopped (optim_wrapper.max_consecutive_bad_steps='
                f'{self.max_consecutive_bad_steps}). Likely causes: NaN/inf in the data '
                '(DataCheckHook drops such annotations), a learning rate that is too high '
                f'(now up to {self._lrs()}), or a loss that overflows; the last checkpoint holds '
                'finite weights')

    def _lrs(self) -> str:
        rates = [group['lr'] for group in self.optimizer.param_groups
                 if isinstance(group.get('lr'), (int, float))]
        return f'{max(rates):g}' if rates else '?'


@OPTIM_WRAPPERS.register_module()
class FiniteOptimWrapper(FiniteGuardMixin, OptimWrapper):
    """mmengine's ``OptimWrapper`` that skips steps with a non-finite loss or gradient."""

    def __init__(self, *args, max_consecutive_bad_steps: int = 5, check_weights: bool = True,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_guard(max_consecutive_bad_steps, check_grads=True,
                         check_weights=check_weights)


@OPTIM_WRAPPERS.register_module()
class FiniteAmpOptimWrapper(FiniteGuardMixin, AmpOptimWrapper):
    """mmengine's ``AmpOptimWrapper`` that skips steps with a non-finite loss (the
    ``GradScaler`` handles non-finite gradients)."""

    def __init__(self, *args, max_consecutive_bad_steps: int = 5, check_weights: bool = True,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_guard(max_consecutive_bad_steps, check_grads=False,
                         check_weights=check_weights)


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Logs the loss terms of an iteration that went NaN/inf and hands them to the wrapper.

    Runs ``after_train_iter`` on the model's log variables. Fails nothing itself: the
    optimiser wrapper skipped the step and decides when to stop.
    """

    priority = 'VERY_HIGH'

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        bad = non_finite_terms(outputs or {})
        wrapper = runner.optim_wrapper
        if not bad:
            if hasattr(wrapper, 'bad_terms'):
                wrapper.bad_terms = []
            return
        values = ', '.join(f'{k}={float(outputs[k]):.4g}' for k in bad)
        runner.logger.warning(
            f'iteration {runner.iter + 1} (epoch {runner.epoch + 1}, batch {batch_idx}): '
            f'non-finite loss terms {values}')
        if hasattr(wrapper, 'bad_terms'):
            wrapper.bad_terms = bad
