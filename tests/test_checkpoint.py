"""mmengine checkpoints load under torch.load(weights_only=True) with the plugin imported."""
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint

import rtmo_plugin  # noqa: F401


def test_mmengine_checkpoint_with_message_hub_loads(tmp_path):
    hub = MessageHub.get_instance('rtmo_ckpt_test')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/loss', np.float64(0.5))
    checkpoint = dict(
        meta=dict(dataset_meta=dict(sigmas=np.array([0.026, 0.025], dtype=np.float32)),
                  seed=np.int64(3)),
        message_hub=hub.state_dict(),
        state_dict={'w': torch.ones(2)})
    path = tmp_path / 'ckpt.pth'
    torch.save(checkpoint, path)
    loaded = _load_checkpoint(str(path), map_location='cpu')  # torch.load, weights_only default
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))
    np.testing.assert_array_equal(loaded['meta']['dataset_meta']['sigmas'],
                                  np.array([0.026, 0.025], dtype=np.float32))
    buffer = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer) and buffer.mean() == 1.0


class _Sneaky:
    def __reduce__(self):
        return getattr, (HistoryBuffer, '__init__')


def test_other_getattr_calls_are_still_refused(tmp_path):
    path = tmp_path / 'bad.pth'
    torch.save({'x': _Sneaky()}, path)
    with pytest.raises(pickle.UnpicklingError, match='refusing getattr'):
        torch.load(path)
