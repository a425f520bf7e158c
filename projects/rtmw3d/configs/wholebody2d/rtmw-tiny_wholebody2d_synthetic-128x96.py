# Top-down whole-body RTMW, tiny, for 2 CPU cores: the plugin's RTMW-m with BoxSimCCLabel
# (configs/rtmw/cocktail14/rtmw-m_boxsimcc_*.py: 133 COCO-WholeBody keypoints,
# CocoWholeBodyMetric) at the sizes of the project's tiny RTMW3D (CSPNeXt deepen 0.167 / widen
# 0.25, 96x128 crops, the head on the neck's stride-8/16 levels), trained from random init on
# one COCO-WholeBody set (the synthetic multi-person whole-body images of
# projects/rtmw3d/tools/wholebody_2d.py) instead of the Cocktail14 mix. Tested on ground-truth
# person boxes (bbox_file=None), as MMPose's top-down configs can be, or on a detection-results
# file (the tool passes the one-stage model's detections). Compared there with the one-stage
# rtmo-tiny_wholebody2d_synthetic-128x128.py on the same images; the tool sets the epochs of
# both from a CPU budget.
_base_ = ['rtmo_plugin::rtmw/cocktail14/rtmw-m_boxsimcc_8xb1024-270e_cocktail14-256x192.py']

max_epochs = 20
base_lr = 4e-3
train_batch_size = 8
input_size = (96, 128)
data_root = 'data/rtmw3d-wholebody2d/'
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
randomness = dict(seed=0)
# the tiny RTMW3D's optimiser and schedule; the plugin's CPU helpers (merged groups, NHWC)
optim_wrapper = dict(constructor='MergedGroupsOptimWrapperConstructor',
                     optimizer=dict(lr=base_lr, weight_decay=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10),
    dict(type='CosineAnnealingLR', eta_min=base_lr * 0.05, begin=0, end=max_epochs,
         T_max=max_epochs, by_epoch=True, convert_to_iter_based=True),
]
auto_scale_lr = dict(base_batch_size=train_batch_size)

# sigma as the tiny RTMW3D's x/y at 96x128 (RTMW-m's (4.9, 5.66) is for 192x256 crops)
codec = dict(type='BoxSimCCLabel', input_size=input_size, sigma=(4., 4.62),
             simcc_split_ratio=2.0, normalize=False)
model = dict(
    backbone=dict(deepen_factor=0.167, widen_factor=0.25, init_cfg=None),  # no downloads
    neck=dict(in_channels=[64, 128, 256], out_indices=(0, 1), num_csp_blocks=1,
              norm_cfg=dict(type='BN')),
    head=dict(in_channels=128, input_size=input_size,
              in_featuremap_size=tuple(s // 16 for s in input_size), final_layer_kernel_size=3,
              gau_cfg=dict(hidden_dims=128, s=64), decoder=codec),
    # no flip test: the figures' left limbs are warm and right limbs cool
    test_cfg=dict(flip_test=False))

backend_args = dict(backend='local')
# no flip, half-body or dropout: the tiny RTMW3D's augmentation
train_pipeline = [
    dict(type='LoadImage', backend_args=backend_args),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomBBoxTransform', scale_factor=[0.85, 1.15], rotate_factor=15),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='GenerateTarget', encoder=codec, use_dataset_keypoint_weights=True),
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage', backend_args=backend_args),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='PackPoseInputs'),
]
loader = dict(num_workers=0, persistent_workers=False, pin_memory=False)
train_dataloader = dict(
    loader, batch_size=train_batch_size,
    dataset=dict(_delete_=True, type='CocoWholeBodyDataset', data_root=data_root,
                 data_mode='topdown', ann_file='annotations/coco_wholebody_train.json',
                 data_prefix=dict(img='train/'), pipeline=train_pipeline))
val_dataloader = dict(
    loader, batch_size=16,
    dataset=dict(data_root=data_root, ann_file='annotations/coco_wholebody_val.json',
                 data_prefix=dict(img='val/'), bbox_file=None, pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/coco_wholebody_val.json')
test_evaluator = val_evaluator

default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(save_best=None, interval=max_epochs, max_keep_ckpts=1))
custom_hooks = [dict(type='ChannelsLastHook')]  # no EMA, no stage-2 pipeline switch
# the neck's stride-32 block is computed but unused: DDP (--procs 2) must not wait for it
model_wrapper_cfg = dict(type='MMDistributedDataParallel', broadcast_buffers=False,
                         device_ids=None, find_unused_parameters=True)
