"""Every config of the project builds, trains one iteration and tests one iteration on tiny
data: the RTMW3D configs on synthetic H3WB-format data (the L and X models kept, only data
and batch shrunk), the distillation stages on COCO-WholeBody data; the stage-2 student's
backbone gets no gradient."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from rtmw3d_fixtures import (
    CONFIGS,
    cocktail_loaders,
    h3wb_loaders,
    runner_config,
    wholebody_2d,
    wholebody_loaders,
    write_h3wb,
)

RTMW3D_CONFIGS = sorted(p.name for p in CONFIGS.glob('rtmw3d-*.py'))
DISTILL = CONFIGS / 'distill'


@pytest.fixture(scope='module')
def h3wb_root(tmp_path_factory):
    return write_h3wb(tmp_path_factory.mktemp('h3wb_cfg'), train_poses=3, val_poses=1,
                      size=128)


def test_the_project_has_the_configs_it_documents():
    assert RTMW3D_CONFIGS == ['rtmw3d-l_8xb64-270e_cocktail14-384x288.py',
                              'rtmw3d-l_8xb64-270e_h3wb-384x288.py',
                              'rtmw3d-tiny_1xb16-32e_synthetic-128x96.py',
                              'rtmw3d-x_8xb32-270e_cocktail14-384x288.py',
                              'rtmw3d-x_8xb32-270e_h3wb-384x288.py']


def test_published_configs_carry_the_releases_recipe():
    """The values of MMPose's rtmw3d-{l,x}_*_cocktail14-384x288 configs."""
    checkpoints = {'l': 'rtmpose-l_simcc-ucoco_dw-ucoco_270e-256x192-4d6dfc62_20230728.pth',
                   'x': 'rtmpose-x_simcc-ucoco_pt-aic-coco_270e-384x288-f5b50679_20230822.pth'}
    for name in RTMW3D_CONFIGS:
        if 'tiny' in name:
            continue
        cfg = Config.fromfile(str(CONFIGS / name))
        size = name[len('rtmw3d-')]
        assert cfg.auto_scale_lr.base_batch_size == 4096
        assert cfg.optim_wrapper.optimizer.lr == 5e-4 and cfg.train_cfg.max_epochs == 270
        assert cfg.model.backbone.init_cfg.checkpoint.endswith(checkpoints[size])
        assert cfg.model.head.gau_cfg.dropout_rate == {'l': 0.1, 'x': 0.0}[size]
        assert cfg.train_dataloader.batch_size == {'l': 64, 'x': 32}[size]
        codec = cfg.model.head.decoder
        assert codec.get('depth_layout', 'rtmw3d') == 'rtmw3d' and 'num_depth_bins' not in codec
        bone = cfg.model.head.loss_bone
        assert bone.type == 'SoftBoneLengthLoss' and bone.loss_weight == 2.0
        parents = bone.joint_parents
        assert len(parents) == 133 and sum(p == i for i, p in enumerate(parents)) == 21
        assert parents[91] == 7 and parents[116] == 113  # MMPose's list, as released
        if 'cocktail14' in name:
            datasets = cfg.train_dataloader.dataset.datasets
            kinds = [d.type for d in datasets]
            assert kinds.count('UBody3dDataset') == 15 and kinds[:3] == ['CombinedDataset'] * 3
            assert sum(len(d.datasets) for d in datasets[:3]) == 2 + 5 + 4
            metrics = [m.type for m in cfg.val_evaluator.metrics]
            assert metrics == ['SimpleMPJPE', 'ImageCocoWholeBodyMetric']


@pytest.mark.parametrize('name', [
    name if 'tiny' in name else pytest.param(name, marks=pytest.mark.slow)  # L, X: ~20 s
    for name in RTMW3D_CONFIGS])
def test_rtmw3d_config_trains_and_tests_one_iteration(name, h3wb_root, tmp_path):
    cfg = Config.fromfile(str(CONFIGS / name))
    assert cfg.model.head.decoder.type == 'BoxSimCC3DLabel'
    cfg.model.backbone.init_cfg = None  # no download: random init
    if 'cocktail14' in name:  # one 2-D and one 3-D sample
        cocktail_loaders(cfg, h3wb_root)
    elif 'tiny' in name:
        h3wb_loaders(cfg, h3wb_root, batch_size=2, num_train=2, num_test=2)
    else:  # one sample per iteration for the published models on a CPU
        h3wb_loaders(cfg, h3wb_root, batch_size=1, num_train=1, num_test=1)
    if 'tiny' not in name:  # the Albumentation/HSV steps stay; SyncBN runs as BN on a CPU
        cfg.model.neck.norm_cfg = dict(type='BN')
    runner = Runner.from_cfg(runner_config(cfg, tmp_path))
    runner.train()
    metrics = runner.test()
    if 'cocktail14' in name:
        assert {'MPJPE', 'coco-wholebody/AP'} <= set(metrics)
        assert 0 < metrics['MPJPE'] < 5.0 and 0 <= metrics['coco-wholebody/AP'] <= 1
        return
    assert {'MPJPE', 'P-MPJPE'} | ({'MPJPE_body'} if 'tiny' in name else set()) <= set(metrics)
    assert 0 < metrics['P-MPJPE'] <= metrics['MPJPE'] < 5.0  # metres, root-relative


def distill_config(name: str, data: dict, tmp_path) -> Config:
    """A stage's config with its teacher/student configs rewritten without downloads."""
    cfg = Config.fromfile(str(DISTILL / name))
    for role in ('teacher_cfg', 'student_cfg'):
        path = tmp_path / f'{role}.py'
        path.write_text(f"_base_ = [{cfg.model[role]!r}]\n"
                        "model = dict(backbone=dict(init_cfg=None),\n"
                        "             neck=dict(norm_cfg=dict(type='BN')))\n")
        cfg.model[role] = str(path)
    cfg.model.teacher_pretrained = None
    wholebody_loaders(cfg, data)
    return runner_config(cfg, tmp_path / 'work')


@pytest.mark.slow
def test_stage1_distills_features_and_logits(tmp_path):
    cfg = distill_config('s1_dis_rtmw-l_to_m_boxsimcc_cocktail14-256x192.py',
                         wholebody_2d(tmp_path / 'data'), tmp_path)
    runner = Runner.from_cfg(cfg)
    assert runner.model.student.head.decoder.__class__.__name__ == 'BoxSimCCLabel'
    assert runner.model.teacher.head.decoder.__class__.__name__ == 'BoxSimCCLabel'
    # the teacher's weights stay frozen (MMPose's distiller leaves its BN statistics in
    # training mode: those buffers follow the data, as upstream)
    teacher_before = {k: v.clone() for k, v in runner.model.teacher.named_parameters()}
    runner.train()
    losses = runner.message_hub.log_scalars
    assert {'train/loss_fea', 'train/loss_logit', 'train/loss_kpt'} <= set(losses)
    for key, value in runner.model.teacher.named_parameters():
        assert not value.requires_grad and torch.equal(value, teacher_before[key]), key
    metrics = runner.test()
    assert 'coco-wholebody/AP' in metrics


def train_stage2_checking_head_only(runner) -> None:
    """Trains a stage-2 distillation runner: the student's backbone gets no gradient and
    stays as it was, its head changes."""
    student = runner.model.student
    backbone_before = [p.clone() for p in student.backbone.parameters()]
    head_before = [p.clone() for p in student.head.parameters()]
    runner.train()
    assert all(p.grad is None or not p.grad.any() for p in student.backbone.parameters())
    assert all(torch.equal(a, b) for a, b in zip(backbone_before, student.backbone.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(head_before, student.head.parameters()))


@pytest.mark.slow
def test_stage2_trains_the_head_only(tmp_path):
    cfg = distill_config('s2_dis_rtmw-m_to_m_boxsimcc_cocktail14-256x192.py',
                         wholebody_2d(tmp_path / 'data'), tmp_path)
    runner = Runner.from_cfg(cfg)
    train_stage2_checking_head_only(runner)
    losses = runner.message_hub.log_scalars  # two_dis: the teacher's logits only, as upstream
    assert 'train/loss_logit' in losses and 'train/loss_kpt' not in losses
    metrics = runner.test()
    assert np.isfinite(metrics['coco-wholebody/AP'])
