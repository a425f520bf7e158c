"""The seed's head, its masked loss, the added augmentations and the unfreezing hook."""
import numpy as np
import pytest
import torch
from flic_fixtures import synthetic_flic
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS, MODELS, TRANSFORMS
from torch import nn

from projects.flic_regression.flic_regression import slots
from projects.flic_regression.flic_regression.hooks import BackboneUnfreezeHook

INPUT = (64, 64)
CODEC = dict(type='RegressionLabel', input_size=INPUT)


def _head():
    init_default_scope('mmpose')
    torch.manual_seed(0)
    head = MODELS.build(dict(type='SigmoidDenseRegressionHead', in_channels=32, num_joints=29,
                             in_featuremap_size=(2, 2), conv_channels=8, hidden_dims=(16,),
                             decoder=CODEC))
    head.init_weights()
    return head


def _batch(tmp_path):
    """Two training samples of generated FLIC through the paper recipe's target encoding."""
    root = synthetic_flic(tmp_path, num_train=2, num_test=1)
    init_default_scope('mmpose')
    pipeline = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale', padding=1.0),
                dict(type='TopdownAffine', input_size=INPUT),
                dict(type='GenerateTarget', encoder=CODEC), dict(type='PackPoseInputs')]
    dataset = DATASETS.build(dict(type='FLICDataset', data_root=str(root),
                                  ann_file='examples.mat', data_prefix=dict(img='images/'),
                                  split='trainval', pipeline=pipeline))
    return pseudo_collate([dataset[0], dataset[1]])['data_samples']


def test_head_outputs_unit_coordinates_of_29_slots():
    head = _head()
    feats = (torch.randn(3, 32, 2, 2) * 50,)  # large features: the sigmoid must still bound
    head.eval()
    out = head(feats)
    assert out.shape == (3, 29, 2)
    assert out.min() >= 0 and out.max() <= 1
    assert out.std() > 0
    with pytest.raises(ValueError, match='in_featuremap_size'):
        head((torch.randn(1, 32, 4, 4),))


def test_loss_ignores_unlabelled_slots(tmp_path):
    samples = _batch(tmp_path)
    weights = torch.cat([s.gt_instance_labels.keypoint_weights for s in samples])
    labels = torch.cat([s.gt_instance_labels.keypoint_labels for s in samples])
    unlabelled = [k for k in range(29) if k not in slots.LABELLED]
    assert weights.shape == (2, 29) and (weights[:, unlabelled] == 0).all()
    assert (weights[:, slots.LABELLED] == 1).all()  # all inside the padded crop

    head = _head()
    head.eval()  # no dropout: the two loss evaluations below see the same outputs
    feats = (torch.randn(2, 32, 2, 2),)
    pred = head(feats)
    pred.retain_grad()
    loss = head.loss_module(pred, labels, weights.unsqueeze(-1))
    loss.backward()
    assert (pred.grad[:, unlabelled] == 0).all()
    assert (pred.grad[:, slots.LABELLED].abs().sum(-1) > 0).all()

    # the same value whatever the unlabelled targets and predictions are
    moved = labels.clone()
    moved[:, unlabelled] = torch.rand(2, len(unlabelled), 2)
    other = pred.detach().clone()
    other[:, unlabelled] = 1 - other[:, unlabelled]
    same = head.loss_module(other, moved, weights.unsqueeze(-1))
    assert same.item() == pytest.approx(loss.item(), rel=1e-6)
    assert head.loss(feats, samples)['loss_kpt'].item() == pytest.approx(loss.item(), rel=1e-6)


def test_shear_moves_image_and_keypoints_together():
    init_default_scope('mmpose')
    img = np.zeros((64, 64, 3), np.uint8)
    img[9:12, 49:52] = 255  # a blob at (50, 10)
    results = dict(img=img, transformed_keypoints=np.array([[[50.0, 10.0]]]))
    np.random.seed(0)
    out = TRANSFORMS.build(dict(type='TopdownRandomShear', shear=0.2))(results)
    (x, y), = out['transformed_keypoints'][0]
    assert y == 10 and x != 50 and abs(x - 50) <= 0.2 * 22
    ys, xs = np.nonzero(out['img'][..., 0] > 100)
    assert abs(xs.mean() - x) < 1.0 and abs(ys.mean() - y) < 1.0


def test_photometric_transforms_stay_in_their_ranges():
    init_default_scope('mmpose')
    img = np.full((8, 8, 3), 100, np.uint8)
    img[0, 0] = 20
    brightness = TRANSFORMS.build(dict(type='RandomBrightnessScale', scale=(0.8, 1.2)))
    shift = TRANSFORMS.build(dict(type='RandomChannelShift', shift=20))
    np.random.seed(1)
    values = [brightness(dict(img=img.copy()))['img'][1, 1, 0] for _ in range(50)]
    assert min(values) >= 80 and max(values) <= 120 and len(set(values)) > 10
    shifted = [shift(dict(img=img.copy()))['img'] for _ in range(50)]
    assert all(s.min() >= 20 and s.max() <= 100 for s in shifted)  # Keras: the image's range
    assert len({int(s[1, 1, 0]) for s in shifted}) > 10
    with pytest.raises(ValueError, match='scale'):
        TRANSFORMS.build(dict(type='RandomBrightnessScale', scale=(1.2, 0.8)))


class _Runner:
    def __init__(self, model, epoch):
        import logging
        self.model, self.epoch, self.logger = model, epoch, logging.getLogger('test')


def test_unfreeze_hook_releases_a_frozen_resnet():
    init_default_scope('mmpose')
    model = nn.Module()
    model.backbone = MODELS.build(dict(type='ResNet', depth=18, frozen_stages=4))
    model.train()
    assert not any(p.requires_grad for p in model.backbone.layer4.parameters())
    hook = BackboneUnfreezeHook(unfreeze_epoch=2)
    hook.before_train_epoch(_Runner(model, 1))
    assert not any(p.requires_grad for p in model.backbone.parameters())
    hook.before_train_epoch(_Runner(model, 2))
    model.train()  # the runner's train mode must not re-freeze it
    assert all(p.requires_grad for p in model.backbone.parameters())
    assert model.backbone.layer1[0].bn1.training
