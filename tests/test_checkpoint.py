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


def test_another_width_is_not_called_another_keypoint_set():
    """The keypoint-visibility conv of a wider model differs in its input channels only: the
    cause named is the model size, not a keypoint set with the same count on both sides."""
    from rtmo_plugin.checkpoint import StateDictMismatch

    vis = 'head.head_module.out_kpt_vis.0.weight'
    wider = StateDictMismatch(shapes=[('backbone.stem.conv.weight', (24, 12, 3, 3),
                                       (16, 12, 3, 3)), (vis, (17, 96, 1, 1), (17, 64, 1, 1))])
    assert wider.likely_cause().startswith('likely a checkpoint of another model size')
    crowdpose = StateDictMismatch(shapes=[(vis, (14, 64, 1, 1), (17, 64, 1, 1))])
    assert crowdpose.likely_cause().startswith(
        f'likely a checkpoint of another keypoint set: {vis} predicts 14 keypoints in the '
        'checkpoint and 17 in the model')
