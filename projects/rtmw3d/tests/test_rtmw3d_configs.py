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
    assert RTMW3D_CONFIGS == ['rtmw3d-l_8xb64-270e_h3wb-384x288.py',
                              'rtmw3d-tiny_1xb16-32e_synthetic-128x96.py',
                              'rtmw3d-x_8xb32-270e_h3wb-384x288.py']


@pytest.mark.parametrize('name', [
    name if 'tiny' in name else pytest.param(name, marks=pytest.mark.slow)  # L, X: ~20 s
    for name in RTMW3D_CONFIGS])
def test_rtmw3d_config_trains_and_tests_one_iteration(name, h3wb_root, tmp_path):
    cfg = Config.fromfile(str(CONFIGS / name))
    assert cfg.model.head.decoder.type == 'BoxSimCC3DLabel'
    cfg.model.backbone.init_cfg = None  # no download: random init
    h3wb_loaders(cfg, h3wb_root, batch_size=2, num_train=2, num_test=2)
    if 'tiny' not in name:  # one sample per iteration for the published models on a CPU
        h3wb_loaders(cfg, h3wb_root, batch_size=1, num_train=1, num_test=1)
    if 'tiny' not in name:  # the Albumentation/HSV steps stay; SyncBN runs as BN on a CPU
        cfg.model.neck.norm_cfg = dict(type='BN')
    runner = Runner.from_cfg(runner_config(cfg, tmp_path))
    runner.train()
    metrics = runner.test()
    assert {'MPJPE', 'P-MPJPE', 'MPJPE_body'} <= set(metrics)
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


@pytest.mark.slow
def test_stage2_trains_the_head_only(tmp_path):
    cfg = distill_config('s2_dis_rtmw-m_to_m_boxsimcc_cocktail14-256x192.py',
                         wholebody_2d(tmp_path / 'data'), tmp_path)
    runner = Runner.from_cfg(cfg)
    student = runner.model.student
    backbone_before = [p.clone() for p in student.backbone.parameters()]
    head_before = [p.clone() for p in student.head.parameters()]
    runner.train()
    assert all(p.grad is None or not p.grad.any() for p in student.backbone.parameters())
    assert all(torch.equal(a, b) for a, b in zip(backbone_before, student.backbone.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(head_before, student.head.parameters()))
    losses = runner.message_hub.log_scalars  # two_dis: the teacher's logits only, as upstream
    assert 'train/loss_logit' in losses and 'train/loss_kpt' not in losses
    metrics = runner.test()
    assert np.isfinite(metrics['coco-wholebody/AP'])
