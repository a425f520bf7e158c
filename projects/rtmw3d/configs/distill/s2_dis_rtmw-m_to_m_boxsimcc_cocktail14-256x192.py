# RTMW two-stage distillation, stage 2 (DWPose's self-distillation,
# ../_base_/dwpose_distill.py): the stage-1 student is both teacher and student. The student's
# head is trained on the frozen teacher's backbone and neck features (two_dis=True: the
# student's own backbone is not used and gets no gradient) with its labels plus the teacher's
# logits (KDLoss, weight 1), for 60 epochs.
# teacher_pretrained is the stage-1 student alone (see stage 1's config for the command).
_base_ = ['rtmo_plugin::rtmw/cocktail14/rtmw-m_boxsimcc_8xb1024-270e_cocktail14-256x192.py',
          '../_base_/dwpose_distill.py']

student_cfg = ('{{fileDirname}}/../../../../configs/rtmw/cocktail14/'
               'rtmw-m_boxsimcc_8xb1024-270e_cocktail14-256x192.py')
find_unused_parameters = True
train_cfg = _base_.stage2_train_cfg
model = dict(_delete_=True, **_base_.distiller, **_base_.stage2,
             teacher_pretrained='student_s1.pth', teacher_cfg=student_cfg,
             student_cfg=student_cfg, train_cfg=train_cfg)
optim_wrapper = dict(clip_grad=_base_.distill_clip_grad)
