# RTMW3D-L (Jiang et al., RTMW, arXiv 2407.08634) as MMPose's released
# projects/rtmpose3d/configs/rtmw3d-l_8xb64_cocktail14-384x288.py builds it: CSPNeXt-L backbone
# (started from MMPose's RTMPose-l whole-body checkpoint) and PAFPN neck, RTMW's head plus a z
# classifier, MMPose's RTMW3D z bins (576 at 288x384, the codec's depth_layout='rtmw3d'),
# depth range +-2.1744869 m around the hips' midpoint, root depth 5.14388 m when unknown,
# KL loss plus a bone loss at weight 2.0, AdamW 5e-4 for 270 epochs at 8 GPUs x 64 (lr scaled
# from a base batch of 4096, as MMPose's), EMA, the stage-2 pipeline for the last 10 epochs.
# Data: H3WB only (MMPose's H36MWholeBodyDataset layout, read through CheckedH3WBDataset);
# the whole-body mix of the release is rtmw3d-l_8xb64-270e_cocktail14-384x288.py. Every
# other config of the project is a delta of this file; the project README lists what differs
# from MMPose's release and why.
_base_ = ['mmpose::_base_/default_runtime.py']
custom_imports = dict(imports=['projects.rtmw3d.rtmw3d'], allow_failed_imports=False)

# runtime
max_epochs = 270
stage2_num_epochs = 10
base_lr = 5e-4
train_batch_size = 64
val_batch_size = 64
input_size = (288, 384)
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
randomness = dict(seed=2024)

optim_wrapper = dict(
    # the plugin's guard: mmengine's OptimWrapper that skips a step whose loss, gradients or
    # updated weights are not finite (weights restored) and stops after 5 in a row
    type='FiniteOptimWrapper',
    optimizer=dict(type='AdamW', lr=base_lr, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0, bias_decay_mult=0, bypass_duplicate=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0e-5, by_epoch=False, begin=0, end=1000),
    dict(type='CosineAnnealingLR', eta_min=base_lr * 0.05, begin=max_epochs // 2,
         end=max_epochs, T_max=max_epochs // 2, by_epoch=True, convert_to_iter_based=True),
]
auto_scale_lr = dict(base_batch_size=4096)  # MMPose's

# codec: x/y from the plugin's BoxSimCCLabel, z in metres around the root on MMPose's RTMW3D
# bins (the codec's default depth_layout='rtmw3d': 576 bins, bin i at (i / 288 - 1) * range)
codec = dict(type='BoxSimCC3DLabel', input_size=input_size, sigma=(6., 6.93, 6.),
             simcc_split_ratio=2.0, normalize=False, depth_range=2.1744869,
             default_root_depth=5.14388)
metafile = 'configs/_base_/datasets/h3wb.py'

# the bone loss's parents: MMPose's RTMW3D list as released. 21 keypoints are their own
# parents and have no bone (nose, eyes, ears, shoulders, hips, knees, ankles, the 6 foot
# points, face points 23 and 50); the hands hang from the elbows. Not an anatomical tree;
# kept so that the loss sees the bones MMPose's does.
bone_parents = [
    0, 1, 2, 3, 4, 5, 6, 5, 6, 7, 8, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 23,
    24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3,
    50, 50, 51, 52, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 91, 92, 93, 94, 91, 96, 97, 98, 91, 100, 101, 102,
    91, 104, 105, 106, 91, 108, 109, 110, 8, 112, 113, 114, 113, 112, 117, 118, 117, 112, 121,
    122, 123, 112, 125, 126, 127, 112, 129, 130, 131]

model = dict(
    type='TopdownPoseEstimator3DCam',
    data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(
        type='CSPNeXt', arch='P5', expand_ratio=0.5, deepen_factor=1., widen_factor=1.,
        channel_attention=True, norm_cfg=dict(type='BN'), act_cfg=dict(type='SiLU'),
        init_cfg=dict(
            type='Pretrained', prefix='backbone.',
            checkpoint='https://download.openmmlab.com/mmpose/v1/projects/rtmposev1/'
                       'rtmpose-l_simcc-ucoco_dw-ucoco_270e-256x192-4d6dfc62_20230728.pth')),
    neck=dict(type='CSPNeXtPAFPN', in_channels=[256, 512, 1024], out_channels=None,
              out_indices=(1, 2), num_csp_blocks=2, expand_ratio=0.5,
              norm_cfg=dict(type='SyncBN'), act_cfg=dict(type='SiLU', inplace=True)),
    head=dict(
        type='RTMW3DSimCCHead',
        in_channels=1024,
        out_channels=133,
        input_size=input_size,
        in_featuremap_size=tuple(s // 32 for s in input_size),
        simcc_split_ratio=codec['simcc_split_ratio'],  # z bins: the codec's
        final_layer_kernel_size=7,
        gau_cfg=dict(hidden_dims=256, s=128, expansion_factor=2, dropout_rate=0.1,
                     drop_path=0., act_fn='SiLU', use_rel_bias=False, pos_enc=False),
        loss=dict(type='KLDiscretLoss', use_target_weight=True, beta=10.,
                  label_softmax=True),
        axis_weights=(1.0, 1.0, 1.0),
        # MMPose's BoneLoss weight; here on expectation coordinates, so that it has a gradient
        loss_bone=dict(type='SoftBoneLengthLoss', joint_parents=bone_parents, beta=10.,
                       loss_weight=2.0),
        decoder=codec),
    test_cfg=dict(flip_test=False))

# data: H3WB in MMPose's layout (data_root/annotation_body3d/..., data_root/original/...),
# read by MMPose's H36MWholeBodyDataset through CheckedH3WBDataset: the .npz cannot run code,
# its fields and the images are checked before iteration 1
dataset_type = 'CheckedH3WBDataset'
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

# MMPose's SimpleMPJPE, as the release validates: camera-space errors in metres (the
# predictions' depth is the true root depth plus the predicted relative depth)
val_evaluator = [dict(type='SimpleMPJPE', mode='mpjpe'), dict(type='SimpleMPJPE', mode='p-mpjpe')]
test_evaluator = val_evaluator

default_hooks = dict(
    checkpoint=dict(save_best='MPJPE', rule='less', max_keep_ckpts=1),
    # the plugin's guards: names the loss terms that went NaN/inf; load_from a checkpoint
    # whose tensors differ in more than the keypoint count (e.g. another z-bin count) is an
    # error, not a partly random model
    non_finite=dict(type='NonFiniteLossHook'),
    keypoint_finetune=dict(type='KeypointFinetuneHook'))
custom_hooks = [
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0002, update_buffers=True,
         priority=49),
    dict(type='mmdet.PipelineSwitchHook', switch_epoch=max_epochs - stage2_num_epochs,
         switch_pipeline=train_pipeline_stage2),
]
