"""RTMOPoseHead on small inputs: shapes, edge cases and gradients."""
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample

import rtmo_plugin  # noqa: F401

K = 5
METAFILE = None  # no sigmas: OKS uses unit sigmas, fine for a unit test


def tiny_head(**overrides):
    init_default_scope('mmpose')
    cfg = dict(
        type='RTMOPoseHead', num_keypoints=K, featmap_strides=(16, 32),
        codec=dict(type='BoxSimCCLabel', num_bins=(24, 32), kernel='laplace',
                   decode_mode='expectation'),
        head_module_cfg=dict(in_channels=16, cls_feat_channels=16, channels_per_group=4,
                             num_groups=2, pose_vec_channels=16, stacked_convs=1,
                             act_cfg=dict(type='Swish')),
        dcc_cfg=dict(feat_channels=8, spe_channels=8,
                     gau_cfg=dict(s=8, expansion_factor=2, dropout_rate=0.0, drop_path=0.0,
                                  act_fn='SiLU', pos_enc='add')),
        assigner=dict(type='SimOTAAssigner', dynamic_k_indicator='oks',
                      oks_calculator=dict(type='PoseOKS', metainfo=METAFILE)),
        prior_generator=dict(type='MlvlPointGenerator', centralize_points=True,
                             strides=[16, 32]),
        overlaps_power=0.5,
        loss_cls=dict(type='VariFocalLoss', reduction='sum', use_target_weight=True),
        loss_bbox=dict(type='IoULoss', mode='square', eps=1e-16, reduction='sum',
                       loss_weight=5.0),
        loss_oks=dict(type='OKSLoss', reduction='none', metainfo=METAFILE, loss_weight=30.0),
        loss_vis=dict(type='BCELoss', use_target_weight=True, reduction='mean'),
        loss_mle=dict(type='MLECoordLoss', use_target_weight=True),
        loss_bbox_aux=dict(type='L1Loss', reduction='sum'))
    cfg.update(overrides)
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def feats(batch=2, size=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(batch, 32, size // s, size // s, generator=g) for s in (16, 32))


def sample(boxes=(), visible=None, input_size=(128, 128)):
    boxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    n = len(boxes)
    g = torch.Generator().manual_seed(n)
    kpts = boxes[:, None, :2] + torch.rand(n, K, 2, generator=g) * (boxes[:, None, 2:] -
                                                                     boxes[:, None, :2])
    vis = torch.ones(n, K) if visible is None else torch.as_tensor(visible, dtype=torch.float32)
    wh = (boxes[:, 2:] - boxes[:, :2]).clamp(min=0)
    data_sample = PoseDataSample(metainfo=dict(input_size=input_size))
    data_sample.gt_instance_labels = InstanceData(
        bboxes=boxes, labels=torch.zeros(n, dtype=torch.long), keypoints=kpts,
        keypoints_visible=vis, areas=wh[:, 0] * wh[:, 1])
    return data_sample


PEOPLE = [(10.0, 20.0, 60.0, 120.0), (70.0, 10.0, 120.0, 100.0)]
EXPECTED_LOSSES = {'loss_cls', 'loss_bbox', 'loss_vis', 'loss_mle', 'loss_oks'}


def check_losses(losses, expected):
    assert expected <= set(losses)
    total = sum(v.mean() for k, v in losses.items() if k.startswith('loss'))  # as mmengine
    assert torch.isfinite(total)
    return total


def test_forward_shapes():
    head = tiny_head().train()
    out = head(feats())
    assert [t.shape for t in out.cls_scores] == [(2, 1, 8, 8), (2, 1, 4, 4)]
    assert [t.shape for t in out.bbox_preds] == [(2, 4, 8, 8), (2, 4, 4, 4)]
    assert [t.shape for t in out.kpt_offsets] == [(2, 2 * K, 8, 8), (2, 2 * K, 4, 4)]
    assert [t.shape for t in out.kpt_vis] == [(2, K, 8, 8), (2, K, 4, 4)]
    assert [t.shape for t in out.pose_feats] == [(2, 16, 8, 8), (2, 16, 4, 4)]
    assert head.eval()(feats()).kpt_offsets == []  # regression branch is training-only


def test_loss_backpropagates_to_every_branch():
    head = tiny_head().train()
    losses = head.loss(feats(), [sample(PEOPLE), sample(PEOPLE[:1])])
    check_losses(losses, EXPECTED_LOSSES).backward()
    for name in ('out_cls', 'out_bbox', 'out_kpt_reg', 'out_kpt_vis', 'out_pose'):
        grad = getattr(head.head_module, name)[0].weight.grad
        assert grad is not None and grad.abs().sum() > 0, name
    assert head.dcc.x_fc.weight.grad.abs().sum() > 0
    assert head.dcc.sigma_fc[0].weight.grad.abs().sum() > 0
    assert losses['num_samples'] >= 1


def test_loss_is_fp32_under_autocast():
    """``--amp`` trains under bf16 autocast: the head's losses stay those of fp32."""
    head = tiny_head().train()
    batch = [sample(PEOPLE), sample(PEOPLE[:1])]
    expected = head.loss(feats(), batch)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = head.loss(feats(), batch)
    for name, value in expected.items():
        assert losses[name].dtype == value.dtype, name
        torch.testing.assert_close(losses[name], value, rtol=1e-5, atol=1e-6, msg=name)


def test_images_without_people():
    head = tiny_head().train()
    losses = head.loss(feats(), [sample(), sample()])
    assert set(k for k in losses if k.startswith('loss')) == {'loss_cls'}
    total = check_losses(losses, {'loss_cls'})
    total.backward()
    assert float(losses['num_samples']) == 1.0


def test_people_without_visible_keypoints_and_degenerate_boxes():
    head = tiny_head().train()
    invisible = sample(PEOPLE, visible=torch.zeros(2, K))
    degenerate = sample([(50.0, 50.0, 50.0, 50.0), (30.0, 40.0, 31.0, 90.0)])
    losses = head.loss(feats(), [invisible, degenerate])
    check_losses(losses, {'loss_cls'}).backward()


def test_second_stage_and_aux_loss():
    head = tiny_head(proxy_target_cc=True, use_aux_loss=True).train()
    losses = head.loss(feats(), [sample(PEOPLE), sample(PEOPLE)])
    check_losses(losses, EXPECTED_LOSSES | {'loss_bbox_aux'}).backward()
    assert losses['overlaps'].shape[1] == 1
    assert ((losses['overlaps'] >= 0) & (losses['overlaps'] <= 1)).all()


@pytest.mark.parametrize('nms_thr', [1.0, 0.65, 0.3])
def test_predict(nms_thr):
    head = tiny_head().eval()
    samples = [sample(input_size=(128, 128)), sample(input_size=(128, 128))]
    results = head.predict(feats(), samples, dict(score_thr=0.0, nms_thr=nms_thr))
    assert len(results) == 2
    for res in results:
        n = len(res)
        assert 0 < n <= 8 * 8 + 4 * 4
        assert res.keypoints.shape == (n, K, 2) and res.keypoint_scores.shape == (n, K)
        assert res.bboxes.shape == (n, 4) and res.scores.shape == (n,)
        assert res.bboxes.min() >= 0 and res.bboxes.max() <= 128
        assert isinstance(res.keypoints, np.ndarray)
    if nms_thr == 1.0:
        assert all(len(r) == 8 * 8 + 4 * 4 for r in results)


@pytest.mark.parametrize('nms_thr, kept', [(1.0, [0, 1, 2]), (0.65, [0, 2]), (0.05, [0, 2])])
def test_predict_nms_on_known_boxes(nms_thr, kept):
    head = tiny_head().eval()
    # boxes 0 and 1 overlap with IoU 0.81; box 2 is apart; scores are already sorted
    bboxes = torch.tensor([[10.0, 10.0, 60.0, 110.0], [10.0, 15.0, 60.0, 110.0],
                           [80.0, 10.0, 120.0, 90.0]])
    scores = torch.tensor([[0.9], [0.8], [0.7]])
    res = head._predict_image(scores, bboxes, torch.rand(3, K), torch.randn(3, 16),
                              torch.tensor([[32.0, 48.0, 16, 16]] * 3), (128, 128),
                              dict(score_thr=0.1), nms_thr)
    np.testing.assert_allclose(res.scores, scores[kept, 0].numpy())
    np.testing.assert_allclose(res.bboxes, bboxes[kept].numpy())
    assert res.keypoints.shape == (len(kept), K, 2)


def test_predict_nothing_above_threshold():
    head = tiny_head().eval()
    results = head.predict(feats(batch=1), [sample()], dict(score_thr=1.1))
    assert len(results[0]) == 0
    assert results[0].keypoints.shape == (0, K, 2)


@pytest.mark.parametrize('nms_thr', [0.0, 1.5])
def test_predict_rejects_bad_nms_thr(nms_thr):
    with pytest.raises(ValueError, match='nms_thr'):
        tiny_head().eval().predict(feats(batch=1), [sample()], dict(nms_thr=nms_thr))


def test_bad_config_errors():
    with pytest.raises(ValueError, match='num_classes'):
        tiny_head(num_classes=2)
    with pytest.raises(ValueError, match='head_module_cfg'):
        tiny_head(head_module_cfg=dict(in_channels=16, num_keypoints=K))
    with pytest.raises(ValueError, match=r'dcc_cfg.num_bins comes from `codec.num_bins`'):
        tiny_head(dcc_cfg=dict(num_bins=(24, 32)))
    with pytest.raises(ValueError, match='differ from featmap_strides'):
        tiny_head(prior_generator=dict(type='MlvlPointGenerator', strides=[8, 16]))


def test_default_prior_generator_follows_featmap_strides():
    assert tiny_head(prior_generator=None).prior_generator.strides == [(16, 16), (32, 32)]


@pytest.mark.parametrize('missing', ['loss_cls', 'assigner'])
def test_training_without_losses_or_assigner_says_what_is_missing(missing):
    head = tiny_head(**{missing: None}).train()
    with pytest.raises(ValueError, match=missing):
        head.loss(feats(), [sample(PEOPLE), sample()])
    head.eval().predict(feats(batch=1), [sample()], dict(score_thr=0.0))  # inference still works


def test_aux_loss_switch_without_its_loss_fails_clearly():
    head = tiny_head(loss_bbox_aux=None, use_aux_loss=True).train()
    with pytest.raises(ValueError, match='loss_bbox_aux'):
        head.loss(feats(), [sample(PEOPLE), sample()])


def test_single_positive_in_a_batch_trains():
    head = tiny_head().train()
    bn = head.dcc.pose_to_kpts[1]
    running_mean = bn.running_mean.clone()
    box, prior = torch.tensor([[10.0, 10.0, 50.0, 90.0]]), torch.tensor([[24.0, 40.0]])
    pose_vecs = torch.randn(1, 16, requires_grad=True)
    out = head.dcc(pose_vecs, box, prior)
    assert out.keypoints.shape == (1, K, 2) and torch.isfinite(out.keypoints).all()
    out.keypoints.sum().backward()
    assert torch.isfinite(pose_vecs.grad).all() and pose_vecs.grad.abs().sum() > 0
    assert torch.equal(bn.running_mean, running_mean)  # one sample does not update statistics


def _dcc_error_after_training(steps: int, init: bool) -> float:
    """Trains a DCC alone on pose vectors that encode the keypoints linearly."""
    from rtmo_plugin.codecs.box_simcc import BoxSimCCLabel, laplace_labels
    from rtmo_plugin.models.dcc import DynamicCoordinateClassifier

    torch.manual_seed(0)
    codec = BoxSimCCLabel(num_bins=(64, 64), kernel='laplace', decode_mode='expectation')
    dcc = DynamicCoordinateClassifier(codec, in_channels=64, num_keypoints=K).train()
    if init:
        dcc.init_weights()
    encode = torch.randn(2 * K, 64) / 4
    optim = torch.optim.AdamW(dcc.parameters(), lr=0.004, weight_decay=0.05)
    loss_fn = MODELS.build(dict(type='MLECoordLoss', use_target_weight=True))
    for _ in range(steps):
        centers = torch.rand(32, 2) * 100 + 20
        sizes = torch.rand(32, 2) * 40 + torch.tensor([20.0, 60.0])
        offsets = (torch.rand(32, K, 2) - 0.5) * sizes[:, None]
        out = dcc((offsets / 50).flatten(1) @ encode,
                  torch.cat((centers - sizes / 2, centers + sizes / 2), 1), centers)
        labels = laplace_labels(centers[:, None] + offsets, out.x_bins, out.y_bins, out.sigmas,
                                sizes.prod(1) / 2)
        loss = loss_fn((out.probs_x, out.probs_y), labels, torch.ones(32, K))
        optim.zero_grad()
        loss.backward()
        optim.step()
    return (out.keypoints - centers[:, None] - offsets).norm(dim=-1).mean().item()


@pytest.mark.slow
def test_dcc_learns_from_scratch_with_identity_attention_init():
    # measured: 7.5 px with the plugin's init; 23 px with MMPose's (saturated softmax)
    assert _dcc_error_after_training(150, init=True) < 12.0


def _dcc_behind_trunk(freeze_sigma: bool, steps: int = 200, seed: int = 1) -> tuple:
    """Trains a DCC behind a learned trunk (which also feeds a regression branch), as in RTMO.

    Returns (mean keypoint error in px, mean learned deviation) over the last 40 steps.
    """
    from torch import nn

    from rtmo_plugin.codecs.box_simcc import BoxSimCCLabel, laplace_labels
    from rtmo_plugin.models.dcc import DynamicCoordinateClassifier

    torch.manual_seed(seed)
    kpts, batch = 17, 64
    codec = BoxSimCCLabel(num_bins=(64, 64), kernel='laplace', decode_mode='expectation')
    dcc = DynamicCoordinateClassifier(codec, in_channels=128, num_keypoints=kpts).train()
    dcc.init_weights()
    dcc.sigma_fc.requires_grad_(not freeze_sigma)
    trunk = nn.Sequential(nn.Linear(2 * kpts, 256), nn.SiLU(), nn.Linear(256, 128), nn.SiLU())
    regress, to_pose_vec = nn.Linear(128, 2 * kpts), nn.Linear(128, 128)
    params = [p for m in (dcc, trunk, regress, to_pose_vec) for p in m.parameters()
              if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=0.004, weight_decay=0.05)
    mle = MODELS.build(dict(type='MLECoordLoss', use_target_weight=True))
    errors, sigmas = [], []
    for _ in range(steps):
        centers = torch.rand(batch, 2) * 100 + 30
        sizes = torch.rand(batch, 2) * 40 + torch.tensor([30.0, 70.0])
        offsets = (torch.rand(batch, kpts, 2) - 0.5) * sizes[:, None]
        feats = trunk((offsets / 50).flatten(1))
        boxes = torch.cat((centers - sizes / 2, centers + sizes / 2), 1)
        boxes = boxes + torch.randn_like(boxes) * 0.1 * sizes.repeat(1, 2)  # predicted boxes
        out = dcc(to_pose_vec(feats), boxes, centers + (torch.rand(batch, 2) - 0.5) * 16)
        labels = laplace_labels(centers[:, None] + offsets, out.x_bins, out.y_bins, out.sigmas,
                                sizes.prod(1) / 2)
        loss = (mle((out.probs_x, out.probs_y), labels, torch.ones(batch, kpts))
                + 3 * (regress(feats).view(batch, kpts, 2) * 50 - offsets).abs().mean())
        optim.zero_grad()
        loss.backward()
        optim.step()
        errors.append((out.keypoints - centers[:, None] - offsets).norm(dim=-1).mean().item())
        sigmas.append(out.sigmas.mean().item())
    return sum(errors[-40:]) / 40, sum(sigmas[-40:]) / 40


@pytest.mark.slow
def test_dcc_behind_a_learned_trunk_needs_fixed_deviations():
    # measured (seed 1): learned deviations widen past their 0.1 cap (the Scale grows) and
    # the DCC drifts to ~30 px; frozen at their initial ~0.05 it converges to ~9 px
    learned_error, learned_sigma = _dcc_behind_trunk(freeze_sigma=False)
    frozen_error, frozen_sigma = _dcc_behind_trunk(freeze_sigma=True)
    assert frozen_error < 12.0 and frozen_sigma < 0.08
    assert learned_error > 2 * frozen_error and learned_sigma > 0.1
