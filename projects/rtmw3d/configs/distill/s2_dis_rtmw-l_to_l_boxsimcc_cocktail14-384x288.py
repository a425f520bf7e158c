# RTMW two-stage distillation at 384x288, stage 2 (DWPose's self-distillation): the stage-1
# RTMW-l student is both teacher and student. The student's head is trained on the frozen
# teacher's backbone and neck features (two_dis=True: the student's own backbone is not used
# and gets no gradient) with the teacher's logits (KDLoss, weight 1), for 60 epochs.
# teacher_pretrained is the stage-1 student alone (see stage 1's config for the command).
_base_ = ['../../../../configs/rtmw/cocktail14/rtmw-l_boxsimcc_8xb320-270e_cocktail14-384x288.py']

student_cfg = ('{{fileDirname}}/../../../../configs/rtmw/cocktail14/'
               'rtmw-l_boxsimcc_8xb320-270e_cocktail14-384x288.py')
find_unused_parameters = True
train_cfg = dict(max_epochs=60, val_interval=10)
model = dict(
    _delete_=True,
    type='DWPoseDistiller',
    two_dis=True,
    teacher_pretrained='student_s1-384x288.pth',
    teacher_cfg=student_cfg,
    student_cfg=student_cfg,
    distill_cfg=[
        dict(methods=[dict(type='KDLoss', name='loss_logit', use_this=True, weight=1.)]),
    ],
    data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    train_cfg=train_cfg)
optim_wrapper = dict(clip_grad=dict(max_norm=1., norm_type=2))
