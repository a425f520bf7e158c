# RTMW3D-L (Jiang et al., RTMW, arXiv 2407.08634) at its published settings: CSPNeXt-L
# backbone and PAFPN neck (RTMW-l's), RTMW's head plus a z classifier, the 3-axis SimCC codec
# (288x384 input, z bins over +-2.1744869 m around the hips' midpoint, root depth 5.14388 m
# when unknown), AdamW 5e-4 for 270 epochs at 8 GPUs x 64, EMA, the stage-2 pipeline for the
# last 10 epochs. Data: H3WB through MMPose's H36MWholeBodyDataset (the paper adds the 2-D
# Cocktail14 mix; see the project README). Every other config of the project is a delta of
# this file.
_base_ = ['mmpose::_base_/default_runtime.py']
custom_imports = dict(imports=['projects.rtmw3d.rtmw3d'], allow_failed_imports=False)

# runtime
max_epochs = 270
stage2_num_epochs = 10
base_lr = 5e-4
train_batch_size = 64
val_batch_size = 32
input_size = (288, 384)
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
randomness = dict(seed=2024)

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=base_lr, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0, bias_decay_mult=0, bypass_duplicate=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0e-5, by_epoch=False, begin=0, end=1000),
    dict(type='CosineAnnealingLR', eta_min=base_lr * 0.05, begin=max_epochs // 2,
         end=max_epochs, T_max=max_epochs // 2, by_epoch=True, convert_to_iter_based=True),
]
auto_scale_lr = dict(base_batch_size=512)

# codec: x/y from the plugin's BoxSimCCLabel, z in metres around the root
codec = dict(type='BoxSimCC3DLabel', input_size=input_size, sigma=(6., 6.93, 6.),
             simcc_split_ratio=2.0, normalize=False, depth_range=2.1744869,
             default_root_depth=5.14388)
num_depth_bins = int(input_size[0] * codec['simcc_split_ratio']) + 1  # odd: a bin at the root
metafile = 'configs/_base_/datasets/h3wb.py'

# RTMW3D's bone loss parents (a root is its own parent): body, feet, face, hands
bone_parents = ([0, 0, 0, 1, 2, 11, 12, 5, 6, 7, 8, 11, 11, 11, 12, 13, 14]
                + [15, 15, 15, 16, 16, 16]
                + [0] * 68
                + [9] + [91, 92, 93, 94, 91, 96, 97, 98, 91, 100, 101, 102, 91, 104, 105, 106,
                         91, 108, 109, 110]
                + [10] + [112, 113, 114, 115, 112, 117, 118, 119, 112, 121, 122, 123, 112, 125,
                          126, 127, 112, 129, 130, 131])

model = dict(
    type='TopdownPoseEstimator3DCam',
    data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(
        type='CSPNeXt', arch='P5', expand_ratio=0.5, deepen_factor=1., widen_factor=1.,
        channel_attention=True, norm_cfg=dict(type='BN'), act_cfg=dict(type='SiLU'),
        init_cfg=dict(
            type='Pretrained', prefix='backbone.',
            checkpoint='https://download.openmmlab.com/mmpose/v1/projects/rtmw/'
                       'rtmw-dw-x-l_simcc-cocktail14_270e-256x192-20231122.pth')),
    neck=dict(type='CSPNeXtPAFPN', in_channels=[256, 512, 1024], out_channels=None,
              out_indices=(1, 2), num_csp_blocks=2, expand_ratio=0.5,
              norm_cfg=dict(type='SyncBN'), act_cfg=dict(type='SiLU', inplace=True)),
    head=dict(
        type='RTMW3DSimCCHead',
        in_channels=1024,
        out_channels=133,
        input_size=input_size,
        in_featuremap_size=tuple(s // 32 for s in input_size),
        simcc_split_ratio=codec['simcc_split_ratio'],
        num_depth_bins=num_depth_bins,
        final_layer_kernel_size=7,
        gau_cfg=dict(hidden_dims=256, s=128, expansion_factor=2, dropout_rate=0.1,
                     drop_path=0., act_fn='SiLU', use_rel_bias=False, pos_enc=False),
        loss=dict(type='KLDiscretLoss', use_target_weight=True, beta=10.,
                  label_softmax=True),
        axis_weights=(1.0, 1.0, 1.0),
        loss_bone=None,  # dict(type='SoftBoneLengthLoss', joint_parents=bone_parents)
        decoder=codec),
    test_cfg=dict(flip_test=False))

# data: H3WB in MMPose's layout (data_root/annotation_body3d/..., data_root/original/...)
dataset_type = 'H36MWholeBodyDataset'
data_root = 'data/h36m/'
ann_file = 'annotation_body3d/h3wb_train_bbox.npz'
backend_args = dict(backend='local')

train_pipeline = [
    dict(type='LoadImage', backend_args=backend_args),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip3D', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform', scale_factor=[0.6, 1.4], rotate_factor=80),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='YOLOXHSVRandomAug'),
    dict(type='Albumentation', transforms=[
        dict(type='Blur', p=0.1), dict(type='MedianBlur', p=0.1),
        dict(type='CoarseDropout', max_holes=1, max_height=0.4, max_width=0.4, min_holes=1,
             min_height=0.2, min_width=0.2, p=1.0)]),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
train_pipeline_stage2 = [
    dict(type='LoadImage', backend_args=backend_args),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip3D', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform', shift_factor=0., scale_factor=[0.5, 1.5],
         rotate_factor=90),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='Albumentation', transforms=[dict(type='Blur', p=0.1),
                                           dict(type='MedianBlur', p=0.1)]),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage', backend_args=backend_args),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]

train_dataloader = dict(
    batch_size=train_batch_size, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file=ann_file, seq_len=1,
                 causal=True, data_prefix=dict(img='images/'), test_mode=False,
                 metainfo=dict(from_file=metafile), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=val_batch_size, num_workers=4, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file=ann_file, seq_len=1,
                 causal=True, data_prefix=dict(img='images/'), test_mode=True,
                 metainfo=dict(from_file=metafile), pipeline=val_pipeline))
test_dataloader = val_dataloader

# root-relative errors in metres (root: the hips' midpoint), MMPose's MPJPE underneath
val_evaluator = [dict(type='RootRelativeMPJPE', mode='mpjpe'),
                 dict(type='RootRelativeMPJPE', mode='p-mpjpe')]
test_evaluator = val_evaluator

default_hooks = dict(checkpoint=dict(save_best='MPJPE', rule='less', max_keep_ckpts=1))
custom_hooks = [
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0002, update_buffers=True,
         priority=49),
    dict(type='mmdet.PipelineSwitchHook', switch_epoch=max_epochs - stage2_num_epochs,
         switch_pipeline=train_pipeline_stage2),
]
