"""RandomFlip3D keeps each joint's depth with its joint; the head's shapes and losses; the
bone loss trains; back-projection inverts the camera."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from rtmw3d_fixtures import CONFIGS

from projects.rtmw3d.rtmw3d import BoxSimCC3DLabel, RandomFlip3D, RTMW3DSimCCHead
from projects.rtmw3d.rtmw3d import synthetic_wholebody as wb
from projects.rtmw3d.rtmw3d.estimator import back_project
from projects.rtmw3d.rtmw3d.head import SoftBoneLengthLoss, expected_bins, label_bins

H3WB_META = 'configs/_base_/datasets/h3wb.py'
TINY = CONFIGS / 'rtmw3d-tiny_1xb16-32e_synthetic-128x96.py'


def labelled_sample(seed=0, size=128):
    rng = np.random.default_rng(seed)
    camera = wb.h36m_cameras(size)[1]
    points = camera.to_camera(wb.place(wb.random_pose_3d(rng), 0.7, (0.3, -0.2)))
    pixels = camera.project(points)
    box = wb.figure_box(pixels, camera.size)
    ones = np.ones((1, 133), np.float32)
    return camera, dict(
        img=np.zeros((size, size, 3), np.uint8), img_shape=(size, size),
        keypoints=pixels[None].astype(np.float32), keypoints_visible=ones.copy(),
        keypoints_3d=points[None].astype(np.float32), lifting_target=points[None].copy(),
        lifting_target_visible=ones.copy(), bbox=box[None].astype(np.float32),
        bbox_center=((box[:2] + box[2:]) / 2)[None], bbox_scale=(box[2:] - box[:2])[None],
        camera_param=[dict(f=camera.f, c=camera.c)],
        flip_indices=parse_pose_metainfo(dict(from_file=H3WB_META))['flip_indices'])


def test_flip_keeps_each_joints_depth_with_its_joint():
    camera, sample = labelled_sample()
    original = {k: np.copy(v) for k, v in sample.items() if k.startswith(('keypoints', 'lift'))}
    flipped = RandomFlip3D(prob=1.0)(sample)
    assert flipped['flip']
    flip = flipped['flip_indices']
    assert flip[5] == 6 and flip[91] == 112  # shoulders and wrists of the hands swap
    for key in ('keypoints_3d', 'lifting_target'):
        for k in range(133):  # joint k's depth is now the depth of its mirror image flip[k]
            assert flipped[key][0, flip[k], 2] == pytest.approx(original[key][0, k, 2])
    # the mirrored 3-D points project onto MMPose's flipped 2-D keypoints
    reprojected = camera.project(flipped['keypoints_3d'][0].astype(np.float64))
    assert np.abs(reprojected - flipped['keypoints'][0]).max() < 1e-2
    left_hip, right_hip = original['keypoints_3d'][0, 11], original['keypoints_3d'][0, 12]
    assert flipped['keypoints_3d'][0, 12, 2] == pytest.approx(left_hip[2])
    assert flipped['keypoints_3d'][0, 11, 2] == pytest.approx(right_hip[2])


def test_flip_without_camera_negates_x():
    _, sample = labelled_sample(seed=1)
    sample.pop('camera_param')
    before = sample['keypoints_3d'].copy()
    flipped = RandomFlip3D(prob=1.0)(sample)
    flip = flipped['flip_indices']
    assert np.allclose(flipped['keypoints_3d'][0, flip, 0], -before[0, :, 0])
    with pytest.raises(ValueError, match='horizontal'):
        RandomFlip3D(direction='vertical')


# the tiny config's codec: 193 z bins in the symmetric layout
TINY_CODEC = dict(input_size=(96, 128), sigma=(4., 4.62, 4.), depth_layout='symmetric')


def tiny_head(**kwargs):
    return RTMW3DSimCCHead(
        in_channels=64, out_channels=133, input_size=(96, 128),
        in_featuremap_size=(3, 4), final_layer_kernel_size=3,
        gau_cfg=dict(hidden_dims=32, s=16, expansion_factor=2, dropout_rate=0., drop_path=0.,
                     act_fn='SiLU', use_rel_bias=False, pos_enc=False),
        decoder=dict(type='BoxSimCC3DLabel', **TINY_CODEC), **kwargs)


def test_head_output_shapes_and_predictions():
    head = tiny_head()
    feats = (torch.randn(2, 32, 8, 6), torch.randn(2, 64, 4, 3))
    x, y, z = head(feats)
    assert x.shape == (2, 133, 192) and y.shape == (2, 133, 256) and z.shape == (2, 133, 193)
    preds = head.predict(feats, None, {})
    assert len(preds) == 2 and preds[0].keypoints.shape == (1, 133, 3)
    assert preds[0].keypoint_scores.shape == (1, 133)
    depth_range = head.decoder.depth_range
    assert np.abs(preds[0].keypoints[..., 2]).max() <= depth_range + 1e-6


def test_z_from_appearance_reads_the_features_where_the_keypoint_is():
    head = tiny_head(z_from_appearance=True)
    x, y, z = head((torch.randn(2, 32, 8, 6), torch.randn(2, 64, 4, 3)))
    assert z.shape == (2, 133, 193)
    fused = torch.randn(1, 48, 8, 6)  # [B, C, h, w]: cells of 32 x-bins and 32 y-bins
    pred_x, pred_y = torch.full((1, 2, 192), -5.0), torch.full((1, 2, 256), -5.0)
    pred_x[0, 0, 70], pred_y[0, 0, 100] = 5.0, 5.0   # keypoint 0 in cell (row 3, column 2)
    pred_x[0, 1, 10:22], pred_y[0, 1, 0] = 5.0, 5.0  # keypoint 1 spread over column 0's bins
    pooled = head.pool_at_keypoints(fused, pred_x, pred_y)
    assert pooled.shape == (1, 2, 48)
    assert torch.allclose(pooled[0, 0], fused[0, :, 3, 2], atol=1e-3)
    assert torch.allclose(pooled[0, 1], fused[0, :, 0, 0], atol=1e-3)


def test_z_loss_sends_no_gradient_through_the_predicted_position():
    head = tiny_head(z_from_appearance=True)
    feats = (torch.randn(2, 32, 8, 6), torch.randn(2, 64, 4, 3))
    _, _, z = head(feats)
    z.sum().backward()
    assert head.cls_x.weight.grad is None and head.cls_y.weight.grad is None
    assert head.z_appearance[0].weight.grad.abs().sum() > 0


def test_head_checks_the_decoder_bins():
    with pytest.raises(ValueError, match='num_depth_bins'):
        RTMW3DSimCCHead(num_depth_bins=100, in_channels=64, out_channels=133,
                        input_size=(96, 128), in_featuremap_size=(3, 4),
                        decoder=dict(type='BoxSimCC3DLabel', input_size=(96, 128)))


def bone_batch():
    """Labels of two synthetic figures in the tiny config's codec."""
    codec = BoxSimCC3DLabel(**TINY_CODEC)
    labels = []
    for seed in (0, 1):
        camera, sample = labelled_sample(seed)
        crop = (sample['keypoints'] - sample['bbox'][:, None, :2]) * 0.5 + 10
        labels.append(codec.encode(crop, None, sample['keypoints_3d']))
    return [torch.from_numpy(np.concatenate([e[f'keypoint_{a}_labels'] for e in labels]))
            for a in 'xyz']


def test_bone_loss_has_gradient_and_is_zero_at_the_target():
    parents = Config.fromfile(str(TINY)).bone_parents
    assert len(parents) == 133
    loss = SoftBoneLengthLoss(parents, beta=10.0)
    labels = bone_batch()
    weights = torch.ones(2, 133)
    logits = [torch.randn_like(t, requires_grad=True) for t in labels]
    value = loss(logits, labels, weights)
    value.backward()
    assert value.item() > 0
    assert all(g.grad is not None and g.grad.abs().sum() > 0 for g in logits)
    exact = [(t.clamp(min=1e-12).log() / 10.0) for t in labels]  # softmax(10 x) = labels
    assert torch.allclose(expected_bins(exact[0], 10.0), label_bins(labels[0]), atol=1e-3)
    assert loss(exact, labels, weights).item() < 1e-2


def test_head_loss_keys_and_z_weight_off():
    from mmengine.structures import InstanceData
    from mmpose.structures import PoseDataSample
    head = tiny_head(loss_bone=dict(type='SoftBoneLengthLoss',
                                    joint_parents=Config.fromfile(str(TINY)).bone_parents),
                     axis_weights=(1.0, 1.0, 0.0))
    labels = bone_batch()
    samples = []
    for i in range(2):
        sample = PoseDataSample()
        sample.gt_instance_labels = InstanceData(
            keypoint_x_labels=labels[0][i:i + 1], keypoint_y_labels=labels[1][i:i + 1],
            keypoint_z_labels=labels[2][i:i + 1], keypoint_weights=torch.ones(1, 133),
            keypoint_z_weights=torch.ones(1, 133))
        samples.append(sample)
    feats = (torch.randn(2, 32, 8, 6), torch.randn(2, 64, 4, 3))
    losses = head.loss(feats, samples)
    assert set(losses) == {'loss_x', 'loss_y', 'loss_z', 'loss_bone'}
    assert losses['loss_x'] > 0 and losses['loss_z'] == 0


def test_back_projection_inverts_the_camera():
    camera, sample = labelled_sample(seed=3)
    points = sample['keypoints_3d'][0].astype(np.float64)
    restored = back_project(camera.project(points), points[:, 2], camera.f, camera.c)
    assert np.allclose(restored, points, atol=1e-9)
