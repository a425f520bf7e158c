# Keypoint Mask R-CNN R-50-FPN on COCO person keypoints: mmdet's Mask R-CNN (one class,
# person) plus the keypoint branch of Keypoint R-CNN (14x14 RoIs from all FPN levels,
# eight 3x3 512-channel convs, 56x56 heatmaps), trained with mmdet's 3x multi-scale recipe.
# The one base of every config of this project; the others are small deltas.
_base_ = ['mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py']

custom_imports = dict(imports=['projects.mask_rcnn_gcm.mask_rcnn_gcm'],
                      allow_failed_imports=False)
default_scope = 'mmdet'

# the keypoint set: MMPose's COCO metainfo (names, left/right pairs, OKS sigmas)
metafile = 'configs/_base_/datasets/coco.py'

model = dict(
    roi_head=dict(
        type='KeypointMaskRCNNRoIHead',
        bbox_head=dict(num_classes=1),
        mask_head=dict(num_classes=1),
        keypoint_box_scale=1.0,
        keypoint_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0),
            out_channels=256,
            featmap_strides=[4, 8, 16, 32]),
        keypoint_head=dict(type='KeypointRCNNHeatmapHead', metainfo=metafile,
                           in_channels=256, conv_channels=512, num_convs=8,
                           stem=False, loss_weight=1.0)))

# The changes of Li et al., "Towards High Performance One-Stage Human Pose Estimation"
# (arXiv 2301.04842), as their released code makes them (the README traces each one):
# refined keypoint features -- RoIs from the finest FPN level only, boxes enlarged 1.3x --
# and a 1x1 conv + ReLU stem to 512 channels in the keypoint head ("-refined" configs) ...
refined_roi_head = dict(
    keypoint_box_scale=1.3,
    keypoint_roi_extractor=dict(featmap_strides=[4]),
    keypoint_head=dict(stem=True))
# ... plus a Global Context Module before the 1st and 5th conv ("-gcm" configs): the two
# differ by the context modules only.
gcm_roi_head = dict(
    refined_roi_head,
    keypoint_head=dict(stem=True,
                       context=dict(type='GlobalContextModule', num_heads=4, roi_size=14),
                       context_before=[0, 4]))

# data: COCO person keypoints (images with people; boxes, masks and keypoints)
dataset_type = 'CocoPersonKeypointDataset'
data_root = 'data/coco/'
train_scales = [(1333, 640), (1333, 672), (1333, 704), (1333, 736), (1333, 768), (1333, 800)]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotationsWithKeypoints', with_bbox=True, with_mask=True),
    dict(type='RandomChoiceResize', scales=train_scales, keep_ratio=True,
         resize_type='ResizeWithKeypoints'),
    dict(type='RandomFlipWithKeypoints', prob=0.5),
    dict(type='PackDetKeypointInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeWithKeypoints', scale=(1333, 800), keep_ratio=True),
    dict(type='PackDetKeypointInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=2,
    dataset=dict(type=dataset_type, data_root=data_root, metafile=metafile,
                 ann_file='annotations/person_keypoints_train2017.json',
                 data_prefix=dict(img='train2017/'), pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, metafile=metafile,
                 ann_file='annotations/person_keypoints_val2017.json',
                 data_prefix=dict(img='val2017/'), pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='CocoMetric', ann_file=data_root + 'annotations/person_keypoints_val2017.json',
         metric=['bbox', 'segm']),
    dict(type='DetKeypointCocoMetric',
         ann_file=data_root + 'annotations/person_keypoints_val2017.json'),
]
test_evaluator = val_evaluator

# mmdet's 3x schedule: 36 epochs, lr x0.1 after epochs 27 and 33 (16 images per step)
max_epochs = 36
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[27, 33],
         gamma=0.1),
]
# The plugin's guards (mask_rcnn_gcm/engine/guards.py): optimiser steps with a non-finite
# loss or gradient are skipped (5 in a row stop the run, naming the loss terms); image files
# and segm ground truth are checked before iteration 1 (the dataset checks the annotations
# while loading); load_from refuses a checkpoint of another model unless
# default_hooks.load_check.partial=True (fine-tuning on purpose).
optim_wrapper = dict(type='FiniteOptimWrapper', max_consecutive_bad_steps=5)
default_hooks = dict(checkpoint=dict(save_best='coco/AP', rule='greater'),
                     non_finite=dict(type='NonFiniteLossHook'),
                     data_check=dict(type='DetKeypointDataCheckHook'),
                     load_check=dict(type='CheckedLoadFromHook', partial=False))
auto_scale_lr = dict(enable=False, base_batch_size=16)
