import math

import pytest
import torch
from mmpose.models.losses import MLECCLoss
from mmpose.registry import MODELS

import rtmo_plugin  # noqa: F401

# one instance, two keypoints, three bins per axis; per-axis likelihoods are chosen by hand
PX = torch.tensor([[[0.2, 0.5, 0.3], [1.0, 0.0, 0.0]]])
PY = torch.tensor([[[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]]])
TX = torch.tensor([[[0.0, 2.0, 0.0], [1.0, 1.0, 1.0]]])   # likelihoods 1.0, 1.0
TY = torch.tensor([[[1.0, 0.5, 1.0], [0.0, 0.0, 4.0]]])   # likelihoods 0.5, 0.0
LIKELIHOOD = torch.tensor([[0.5, 0.0]])
WEIGHTS = torch.tensor([[1.0, 0.5]])


def build(**kwargs):
    return MODELS.build(dict(type='MLECoordLoss', **kwargs))


@pytest.mark.parametrize('mode, expected', [
    ('linear', [[0.5, 1.0]]),
    ('square', [[0.75, 1.0]]),
    ('log', [[-math.log(0.5 + 1e-4), -math.log(1e-4)]]),
])
def test_modes_per_keypoint(mode, expected):
    loss = build(mode=mode, reduction='none')((PX, PY), (TX, TY))
    assert torch.allclose(loss, torch.tensor(expected), atol=1e-6)


@pytest.mark.parametrize('reduction, expected', [
    ('none', [[0.5, 0.5]]), ('mean', 0.5), ('sum', 1.0)])
def test_reductions_with_target_weights(reduction, expected):
    loss = build(mode='linear', reduction=reduction, use_target_weight=True,
                 loss_weight=1.0)((PX, PY), (TX, TY), WEIGHTS)
    assert torch.allclose(loss, torch.tensor(expected), atol=1e-6)


def test_loss_weight_scales():
    base = build(mode='log')((PX, PY), (TX, TY))
    assert torch.allclose(build(mode='log', loss_weight=5.0)((PX, PY), (TX, TY)), 5 * base)


@pytest.mark.parametrize('mode', ['linear', 'square', 'log'])
@pytest.mark.parametrize('reduction', ['none', 'mean'])
def test_matches_mmpose_on_realistic_inputs(mode, reduction):
    torch.manual_seed(0)
    probs = [torch.randn(6, 17, n).softmax(-1) for n in (192, 256)]
    targets = [torch.rand(6, 17, n) * 10 for n in (192, 256)]
    weights = (torch.rand(6, 17) > 0.3).float()
    ours = build(mode=mode, reduction=reduction, use_target_weight=True)(probs, targets, weights)
    ref = MLECCLoss(mode=mode, reduction=reduction, use_target_weight=True)(
        probs, targets, weights)
    # MMPose's 'mean' keeps one value per instance; mmengine averages it when logging
    assert torch.allclose(ours, ref.mean() if reduction == 'mean' else ref, rtol=1e-5)


@pytest.mark.parametrize('mode', ['linear', 'square', 'log'])
def test_finite_for_extreme_finite_inputs(mode):
    big = torch.finfo(torch.float32).max
    outputs = [torch.tensor([[[big, -big, 0.0]]], requires_grad=True),
               torch.tensor([[[1.0, big, 1e-30]]], requires_grad=True)]
    targets = [torch.tensor([[[big, big, -big]]]), torch.tensor([[[big, 0.0, 1.0]]])]
    loss = build(mode=mode)(outputs, targets)
    assert torch.isfinite(loss)
    loss.backward()
    assert all(torch.isfinite(o.grad).all() for o in outputs)


def test_bad_arguments():
    with pytest.raises(ValueError, match='reduction'):
        build(reduction='max')
    with pytest.raises(ValueError, match='mode'):
        build(mode='cubic')
    with pytest.raises(ValueError, match='target_weight'):
        build(use_target_weight=True)((PX, PY), (TX, TY))
    with pytest.raises(ValueError, match='axes'):
        build()((PX, PY), (TX,))
