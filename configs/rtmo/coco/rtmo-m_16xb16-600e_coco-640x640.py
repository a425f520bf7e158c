# RTMO-m on COCO: what differs from the base (RTMO-s) recipe (MMPose reports 70.9 AP).
_base_ = ['../../_base_/rtmo_coco-640x640.py', '../../_base_/rtmo_sizes.py']

train_dataloader = dict(batch_size=16)

# stage 2 keeps the default shift / rotate / scale probabilities for m and l
train_pipeline_stage2 = [
    dict(type='LoadImage'),
    dict(type='BottomupRandomAffine', input_size=(640, 640), scale_type='long',
         pad_val=(114, 114, 114), bbox_keep_corner=False, clip_border=True),
    dict(type='YOLOXHSVRandomAug'),
    dict(type='RandomFlip'),
    dict(type='BottomupGetHeatmapMask', get_invalid=True),
    dict(type='FilterAnnotations', by_kpt=True, by_box=True, keep_empty=False),
    dict(type='GenerateTarget', encoder={{_base_.codec}}),
    dict(type='PackPoseInputs'),
]
custom_hooks = [
    dict(type='YOLOXPoseModeSwitchHook', num_last_epochs=20,
         new_train_pipeline=train_pipeline_stage2, priority=48),
    dict(type='RTMOModeSwitchHook', priority=48, epoch_attributes={
        280: {'proxy_target_cc': True, 'overlaps_power': 1.0, 'loss_cls.loss_weight': 2.0,
              'loss_mle.loss_weight': 5.0, 'loss_oks.loss_weight': 10.0}}),
    dict(type='SyncNormHook', priority=48),
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0002, update_buffers=True,
         strict_load=False, priority=49),
]

size = _base_.rtmo_m
model = dict(
    backbone=size.backbone,
    neck=size.neck,
    head=dict(
        head_module_cfg=size.head_module_cfg,
        assigner=dict(use_keypoints_for_center=False),
        loss_mle=dict(loss_weight=1e-2)))
