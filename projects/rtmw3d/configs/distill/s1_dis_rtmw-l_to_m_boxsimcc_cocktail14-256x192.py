# RTMW two-stage distillation, stage 1 (DWPose's recipe, MMPose's DWPoseDistiller): the RTMW-l
# teacher's last neck features (FeaLoss) and SimCC logits (KDLoss) are distilled into an
# RTMW-m student trained on its own labels; both distillation weights decay linearly to 0
# over training. Teacher and student both use the plugin's BoxSimCCLabel codec. Data,
# pipelines, schedule and evaluation are the student's (Cocktail14, 270 epochs).
# After training, keep the student only (for stage 2):
#   python -m projects.rtmw3d.rtmw3d.distill work_dirs/<this>/epoch_270.pth student_s1.pth
_base_ = ['../../../../configs/rtmw/cocktail14/rtmw-m_boxsimcc_8xb1024-270e_cocktail14-256x192.py']

teacher_cfg = '{{fileDirname}}/rtmw-l_boxsimcc_8xb1024-270e_cocktail14-256x192.py'
student_cfg = ('{{fileDirname}}/../../../../configs/rtmw/cocktail14/'
               'rtmw-m_boxsimcc_8xb1024-270e_cocktail14-256x192.py')
find_unused_parameters = False
model = dict(
    _delete_=True,
    type='DWPoseDistiller',
    teacher_pretrained='https://download.openmmlab.com/mmpose/v1/projects/rtmw/'
                       'rtmw-dw-x-l_simcc-cocktail14_270e-256x192-20231122.pth',
    teacher_cfg=teacher_cfg,
    student_cfg=student_cfg,
    distill_cfg=[
        dict(methods=[dict(type='FeaLoss', name='loss_fea', use_this=True, student_channels=768,
                           teacher_channels=1024, alpha_fea=0.00007)]),
        dict(methods=[dict(type='KDLoss', name='loss_logit', use_this=True, weight=0.1)]),
    ],
    data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True))
optim_wrapper = dict(clip_grad=dict(max_norm=1., norm_type=2))
