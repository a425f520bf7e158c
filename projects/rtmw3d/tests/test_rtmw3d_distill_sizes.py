"""The 384x288 distillation stages (RTMW-x -> RTMW-l, then RTMW-l -> RTMW-l): their models are
the plugin's 384x288 RTMW configs with matching feature widths, and each stage trains and
tests one iteration on tiny COCO-WholeBody data; the stage-2 student's backbone gets no
gradient."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from rtmw3d_fixtures import REPO, wholebody_2d
from test_rtmw3d_configs import DISTILL, distill_config, train_stage2_checking_head_only

STAGE1 = 's1_dis_rtmw-x_to_l_boxsimcc_cocktail14-384x288.py'
STAGE2 = 's2_dis_rtmw-l_to_l_boxsimcc_cocktail14-384x288.py'
RTMW = REPO / 'configs' / 'rtmw' / 'cocktail14'


def test_stages_distill_the_384x288_models_at_their_widths():
    s1, s2 = (Config.fromfile(str(DISTILL / name)) for name in (STAGE1, STAGE2))
    teacher, student = (Config.fromfile(s1.model[k]) for k in ('teacher_cfg', 'student_cfg'))
    assert teacher.filename.endswith('rtmw-x_boxsimcc_8xb320-270e_cocktail14-384x288.py')
    assert student.filename.endswith('rtmw-l_boxsimcc_8xb320-270e_cocktail14-384x288.py')
    fea = s1.model.distill_cfg[0].methods[0]
    assert (fea.teacher_channels, fea.student_channels) == (
        teacher.model.head.in_channels, student.model.head.in_channels) == (1280, 1024)
    assert teacher.codec.input_size == student.codec.input_size == (288, 384)
    # MMPose's released RTMW-x 384x288 (its RTMW-l 384x288 is released as distilled from it)
    assert s1.model.teacher_pretrained.endswith(
        'rtmw-x_simcc-cocktail14_pt-ucoco_270e-384x288-f840f204_20231122.pth')
    # each stage trains on the student's data and pipelines
    own = Config.fromfile(str(RTMW / 'rtmw-l_boxsimcc_8xb320-270e_cocktail14-384x288.py'))
    for stage in (s1, s2):
        assert stage.train_dataloader == own.train_dataloader
        assert stage.val_dataloader == own.val_dataloader
    assert s2.model.two_dis and s2.model.teacher_cfg == s2.model.student_cfg == s1.model.student_cfg
    assert s2.train_cfg.max_epochs == 60


@pytest.mark.slow  # RTMW-x and RTMW-l at 384x288 on a CPU
def test_stage1_at_384x288_trains_and_tests_one_iteration(tmp_path):
    runner = Runner.from_cfg(distill_config(STAGE1, wholebody_2d(tmp_path / 'data'), tmp_path))
    teacher, student = runner.model.teacher, runner.model.student
    assert teacher.backbone.stem[0].conv.out_channels == 40  # CSPNeXt-X (widen 1.25)
    assert student.backbone.stem[0].conv.out_channels == 32  # CSPNeXt-L
    teacher_before = {k: v.clone() for k, v in teacher.named_parameters()}
    runner.train()
    assert {'train/loss_fea', 'train/loss_logit', 'train/loss_kpt'} <= set(
        runner.message_hub.log_scalars)
    for key, value in teacher.named_parameters():
        assert not value.requires_grad and torch.equal(value, teacher_before[key]), key
    assert np.isfinite(runner.test()['coco-wholebody/AP'])


@pytest.mark.slow  # two RTMW-l at 384x288 on a CPU
def test_stage2_at_384x288_trains_the_head_only(tmp_path):
    runner = Runner.from_cfg(distill_config(STAGE2, wholebody_2d(tmp_path / 'data'), tmp_path))
    train_stage2_checking_head_only(runner)
    assert np.isfinite(runner.test()['coco-wholebody/AP'])
