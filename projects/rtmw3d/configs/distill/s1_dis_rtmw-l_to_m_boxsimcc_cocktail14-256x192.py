# RTMW two-stage distillation, stage 1 (DWPose's recipe, MMPose's DWPoseDistiller,
# ../_base_/dwpose_distill.py): the RTMW-l teacher's last neck features (FeaLoss, 1024 -> 768
# channels) and SimCC logits (KDLoss) are distilled into an RTMW-m student trained on its own
# labels; both distillation weights decay linearly to 0 over training. Teacher and student
# both use the plugin's BoxSimCCLabel codec. Data, pipelines, schedule and evaluation are the
# student's (Cocktail14, 270 epochs).
# After training, keep the student only (for stage 2):
#   python -m projects.rtmw3d.rtmw3d.distill work_dirs/<this>/epoch_270.pth student_s1.pth
_base_ = ['rtmo_plugin::rtmw/cocktail14/rtmw-m_boxsimcc_8xb1024-270e_cocktail14-256x192.py',
          '../_base_/dwpose_distill.py']

teacher_cfg = '{{fileDirname}}/rtmw-l_boxsimcc_8xb1024-270e_cocktail14-256x192.py'
student_cfg = ('{{fileDirname}}/../../../../configs/rtmw/cocktail14/'
               'rtmw-m_boxsimcc_8xb1024-270e_cocktail14-256x192.py')
find_unused_parameters = False
model = dict(
    _delete_=True,
    **_base_.distiller,
    teacher_pretrained='https://download.openmmlab.com/mmpose/v1/projects/rtmw/'
                       'rtmw-dw-x-l_simcc-cocktail14_270e-256x192-20231122.pth',
    teacher_cfg=teacher_cfg,
    student_cfg=student_cfg,
    distill_cfg=[
        dict(methods=[dict(type='FeaLoss', name='loss_fea', use_this=True, student_channels=768,
                           teacher_channels=1024, alpha_fea=0.00007)]),
        _base_.stage1_logit_loss,
    ])
optim_wrapper = dict(clip_grad=_base_.distill_clip_grad)
