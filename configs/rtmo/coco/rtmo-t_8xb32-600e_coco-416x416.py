# RTMO-t on COCO: the base recipe at 416x416 with RTMO-t's sizes and no MixUp
# (as MMPose's rtmo-t_8xb32-600e_body7-416x416; MMPose releases RTMO-t for Body7 only).
_base_ = ['../../_base_/rtmo_coco-640x640.py', '../../_base_/rtmo_sizes.py']

input_size = (416, 416)
codec = dict(type='YOLOXPoseAnnotationProcessor', input_size=input_size)

train_pipeline_stage1 = [
    dict(type='LoadImage', backend_args=None),
    dict(type='Mosaic', img_scale=input_size, pad_val=114.0,
         pre_transform=[dict(type='LoadImage', backend_args=None)]),
    dict(type='BottomupRandomAffine', input_size=input_size, shift_factor=0.1,
         rotate_factor=10, scale_factor=(0.75, 1.0), pad_val=114, distribution='uniform',
         transform_mode='perspective', bbox_keep_corner=False, clip_border=True),
    dict(type='YOLOXHSVRandomAug'),
    dict(type='RandomFlip'),
    dict(type='FilterAnnotations', by_kpt=True, by_box=True, keep_empty=False),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
train_pipeline_stage2 = [
    dict(type='LoadImage'),
    dict(type='BottomupRandomAffine', input_size=input_size, shift_prob=0, rotate_prob=0,
         scale_prob=0, scale_type='long', pad_val=(114, 114, 114), bbox_keep_corner=False,
         clip_border=True),
    dict(type='YOLOXHSVRandomAug'),
    dict(type='RandomFlip'),
    dict(type='BottomupGetHeatmapMask', get_invalid=True),
    dict(type='FilterAnnotations', by_kpt=True, by_box=True, keep_empty=False),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='BottomupResize', input_size=input_size, pad_val=(114, 114, 114)),
    dict(type='PackPoseInputs',
         meta_keys=('id', 'img_id', 'img_path', 'ori_shape', 'img_shape', 'input_size',
                    'input_center', 'input_scale')),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline_stage1))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader

custom_hooks = [
    dict(type='YOLOXPoseModeSwitchHook', num_last_epochs=20,
         new_train_pipeline=train_pipeline_stage2, priority=48),
    dict(type='RTMOModeSwitchHook', priority=48, epoch_attributes={
        280: {'proxy_target_cc': True, 'loss_mle.loss_weight': 5.0,
              'loss_oks.loss_weight': 10.0}}),
    dict(type='SyncNormHook', priority=48),
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0002, update_buffers=True,
         strict_load=False, priority=49),
]

size = _base_.rtmo_t
model = dict(
    data_preprocessor=dict(batch_augments=[dict(
        type='BatchSyncRandomResize', random_size_range=(320, 640), size_divisor=32,
        interval=1)]),
    backbone=size.backbone,
    neck=size.neck,
    head=dict(head_module_cfg=size.head_module_cfg),
    test_cfg=dict(input_size=input_size))
