# RTMW two-stage distillation at 384x288, stage 1 (DWPose's recipe, MMPose's DWPoseDistiller,
# ../_base_/dwpose_distill.py): the RTMW-x teacher's last neck features (FeaLoss, 1280 -> 1024
# channels) and SimCC logits (KDLoss) are distilled into an RTMW-l student trained on its own
# labels, both weights decaying linearly to 0 over training. MMPose releases its RTMW-l
# 384x288 (70.1 whole-body AP) as `rtmw-dw-x-l`, distilled (DWPose) from RTMW-x. The same
# stage as the 256x192 RTMW-l -> RTMW-m config beside it, with the 384x288 configs of
# configs/rtmw/cocktail14/.
# After training, keep the student only (for stage 2):
#   python -m projects.rtmw3d.rtmw3d.distill work_dirs/<this>/epoch_270.pth student_s1-384x288.pth
_base_ = ['rtmo_plugin::rtmw/cocktail14/rtmw-l_boxsimcc_8xb320-270e_cocktail14-384x288.py',
          '../_base_/dwpose_distill.py']

rtmw_configs = '{{fileDirname}}/../../../../configs/rtmw/cocktail14/'
teacher_cfg = rtmw_configs + 'rtmw-x_boxsimcc_8xb320-270e_cocktail14-384x288.py'
student_cfg = rtmw_configs + 'rtmw-l_boxsimcc_8xb320-270e_cocktail14-384x288.py'
find_unused_parameters = False
model = dict(
    _delete_=True,
    **_base_.distiller,
    teacher_pretrained='https://download.openmmlab.com/mmpose/v1/projects/rtmw/'
                       'rtmw-x_simcc-cocktail14_pt-ucoco_270e-384x288-f840f204_20231122.pth',
    teacher_cfg=teacher_cfg,
    student_cfg=student_cfg,
    distill_cfg=[
        dict(methods=[dict(type='FeaLoss', name='loss_fea', use_this=True, student_channels=1024,
                           teacher_channels=1280, alpha_fea=0.00007)]),
        _base_.stage1_logit_loss,
    ])
optim_wrapper = dict(clip_grad=_base_.distill_clip_grad)
