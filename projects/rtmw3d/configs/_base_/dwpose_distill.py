# DWPose's two-stage distillation with MMPose's DWPoseDistiller, what every stage config of
# distill/ shares. Only variables (a stage config inherits its student's config and this file):
# - `distiller`: the model type and the student's data preprocessor;
# - stage 1 (the teacher's last neck features, FeaLoss, and SimCC logits, KDLoss, distilled
#   into a student trained on its own labels, both weights decaying linearly to 0):
#   `stage1_logit_loss`; the FeaLoss depends on the two widths, so each stage-1 config states it;
# - stage 2 (self-distillation: the student's head on the frozen stage-1 student's backbone and
#   neck features, two_dis=True, with the teacher's logits at weight 1, for 60 epochs):
#   `stage2` and `stage2_train_cfg`;
# - `distill_clip_grad`: both stages clip the gradient norm at 1.
distiller = dict(
    type='DWPoseDistiller',
    data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True))
stage1_logit_loss = dict(methods=[dict(type='KDLoss', name='loss_logit', use_this=True,
                                       weight=0.1)])
stage2 = dict(two_dis=True, distill_cfg=[
    dict(methods=[dict(type='KDLoss', name='loss_logit', use_this=True, weight=1.)])])
stage2_train_cfg = dict(max_epochs=60, val_interval=10)
distill_clip_grad = dict(max_norm=1., norm_type=2)
