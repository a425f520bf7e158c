"""Resume reproduces a straight run: 2 straight epochs == 1 epoch, interrupted, + --resume,
bit for bit (CPU, one thread)."""
import random

import numpy as np
import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner
from reliability_fixtures import tiny_cfg, write_tiny_set

from rtmo_plugin.engine.rng_state import get_rng_state, set_rng_state


def test_rng_state_round_trip_survives_a_safe_checkpoint(tmp_path):
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    state = get_rng_state()
    torch.save(dict(rng_state=state), tmp_path / 'c.pth')
    expected = (random.random(), np.random.rand(), torch.rand(1))
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    set_rng_state(torch.load(tmp_path / 'c.pth', weights_only=True)['rng_state'])
    assert (random.random(), np.random.rand(), torch.rand(1)) == expected


class Interrupt(Exception):
    pass


class StopAfterFirstEpoch(Hook):
    """Kills the run after the first epoch's checkpoint is written (CheckpointHook is
    VERY_LOW, this runs after it)."""

    priority = 'LOWEST'

    def after_train_epoch(self, runner):
        raise Interrupt


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def train(root, work_dir, interrupt=False, resume=None, rng_hook=True):
    cfg = tiny_cfg(root, work_dir, epochs=2, batch_size=2, checkpoint=True)
    cfg.randomness = dict(seed=0)
    if not rng_hook:
        cfg.default_hooks.pop('rng_state')
    if resume is not None:
        cfg.resume, cfg.load_from = True, str(resume)
    runner = Runner.from_cfg(cfg)
    if interrupt:
        runner.register_hook(StopAfterFirstEpoch())
        with pytest.raises(Interrupt):
            runner.train()
        return None
    runner.train()
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


@pytest.mark.slow
def test_resumed_run_equals_the_straight_run_bit_for_bit(tmp_path, one_thread):
    root = tmp_path / 'data'
    write_tiny_set(root, num_images=4)
    straight = train(root, tmp_path / 'straight')
    train(root, tmp_path / 'cut', interrupt=True)
    checkpoint = tmp_path / 'cut' / 'epoch_1.pth'
    assert 'rng_state' in torch.load(checkpoint, weights_only=True)
    resumed = train(root, tmp_path / 'cut', resume=checkpoint)
    assert straight.keys() == resumed.keys()
    different = [k for k in straight if not torch.equal(straight[k], resumed[k])]
    assert not different, f'{len(different)} tensors differ, e.g. {different[:3]}'
    # without the hook the augmentations of epoch 2 are drawn from a fresh seed: the same
    # comparison fails (so the test above can fail)
    train(root, tmp_path / 'plain', interrupt=True, rng_hook=False)
    plain = train(root, tmp_path / 'plain', resume=tmp_path / 'plain' / 'epoch_1.pth',
                  rng_hook=False)
    assert any(not torch.equal(straight[k], plain[k]) for k in straight)
