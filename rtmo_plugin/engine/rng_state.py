"""Resume that reproduces a straight run: the random states travel in the checkpoint.

mmengine 0.10's ``Runner.resume`` restores the weights, the optimiser, the schedulers, the
message hub and the epoch; the sampler's order follows from the epoch
(``DefaultSampler`` seeds its permutation with ``seed + epoch``, set by
``DistSamplerSeedHook``). It does not restore the global random states, which the
augmentations draw from (``random`` and ``numpy`` in the pipeline when it runs in the main
process, ``torch`` for the DataLoader's base seed and batch augments). A resumed run starts
its next epoch from ``Runner.set_randomness(seed)`` instead of where the straight run was.

:class:`RandomStateHook` stores Python's, numpy's and torch's (CPU and every CUDA device's)
states in each checkpoint (``checkpoint['rng_state']``) and puts them back at the first
``before_train_epoch`` after a resume, with the highest priority: after everything the
Runner does between ``resume`` and the first epoch (seeding, building, weight init,
``before_train`` hooks), at the point where the straight run saved them. Validation inside
training runs on a copy of the states (saved at ``before_val``, restored at ``after_val``),
so a straight run's training stream does not depend on whether it validated before the
checkpoint's epoch ended.

Covered: ``EpochBasedTrainLoop`` resumed from a checkpoint saved at the end of an epoch
(what ``CheckpointHook(by_epoch=True)`` writes). A checkpoint saved inside an epoch resumes
at the start of the next one (mmengine's behaviour); the hook then warns that the run will
not match a straight one.

A checkpoint without what resuming needs (a weights-only file: no epoch, optimiser or message
hub) is refused by :class:`ResumeCheckHook` (and by :class:`RandomStateHook`) before mmengine
reads it, instead of ``KeyError: 'epoch'``; ``tools/train.py --resume`` adds the former.
"""
from __future__ import annotations

import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmpose.registry import HOOKS

from ..checkpoint import check_resumable


def get_rng_state() -> dict:
    """The global random states, in types ``torch.load(weights_only=True)`` reads."""
    version, keys, gauss = random.getstate()
    name, np_keys, pos, has_gauss, cached = np.random.get_state()
    state = dict(python=(version, list(keys), gauss),
                 numpy=(name, torch.from_numpy(np_keys.astype(np.int64)), int(pos),
                        int(has_gauss), float(cached)),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restores what :func:`get_rng_state` returned."""
    version, keys, gauss = state['python']
    random.setstate((version, tuple(keys), gauss))
    name, np_keys, pos, has_gauss, cached = state['numpy']
    np.random.set_state((name, np.asarray(np_keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Saves the random states in every checkpoint and restores them on resume."""

    priority = 'HIGHEST'

    def __init__(self) -> None:
        self._resumed: Optional[dict] = None
        self._val_state: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['rng_state'] = get_rng_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not runner._resume:  # load_from: weights only, a fresh run
            return
        check_resumable(checkpoint, _resumed_name(runner))
        state = checkpoint.get('rng_state')
        if state is None:
            runner.logger.warning('the resumed checkpoint has no rng_state (written without '
                                  'RandomStateHook): the run will not match a straight one')
            return
        self._resumed = state
        meta = checkpoint.get('meta', {})
        loader = runner.train_dataloader
        if meta.get('iter') is not None and len(loader) and meta['iter'] % len(loader):
            runner.logger.warning(
                f"the checkpoint was saved inside an epoch (iteration {meta['iter']}, "
                f'{len(loader)} per epoch): training resumes at the next epoch and will not '
                'match a straight run')

    def before_train_epoch(self, runner) -> None:
        if self._resumed is not None:
            set_rng_state(self._resumed)
            self._resumed = None

    def before_val(self, runner) -> None:
        self._val_state = get_rng_state()

    def after_val(self, runner) -> None:
        if self._val_state is not None:
            set_rng_state(self._val_state)
            self._val_state = None


def _resumed_name(runner) -> str:
    return str(runner._load_from or f'the latest checkpoint of {runner.work_dir}')


@HOOKS.register_module()
class ResumeCheckHook(Hook):
    """Refuses to resume from a checkpoint that lacks the epoch, iteration, message hub,
    optimiser or weights (it runs before mmengine reads them)."""

    priority = 'HIGHEST'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if runner._resume:
            check_resumable(checkpoint, _resumed_name(runner))
