# Tiny CPU baseline on synthetic 160x160 people: a quarter-width ResNet-18 from random
# init, 64-channel FPN, 32-channel mask and keypoint heads, few proposals. The demo trains it
# next to the -gcm one. Its keypoint head has the paper model's 1x1 stem, so that the two
# differ by the refined features (no parameters) and the GCM only.
_base_ = ['../kpt-mask-rcnn_r50-fpn-3x_coco.py']

width = 64        # FPN and box head
head_width = 32   # mask and keypoint heads (8 convs of 14x14 per RoI: the costly part)
model = dict(
    backbone=dict(depth=18, base_channels=16, frozen_stages=-1, norm_eval=False,
                  init_cfg=None),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=width),
    rpn_head=dict(in_channels=width, feat_channels=width),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=width),
        bbox_head=dict(in_channels=width, fc_out_channels=256),
        mask_roi_extractor=dict(out_channels=width),
        mask_head=dict(in_channels=width, conv_out_channels=head_width, num_convs=2),
        keypoint_roi_extractor=dict(out_channels=width),
        keypoint_head=dict(in_channels=width, conv_channels=head_width, stem=True)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=500, max_per_img=200),
        rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=100), rcnn=dict(max_per_img=20)))

# synthetic data (rtmo_plugin.synthetic, with masks): the demo points data_root at it.
# No flip: the figures' left limbs are drawn in warm colours, right limbs in cool ones.
data_root = 'data/mask_rcnn_gcm/synthetic/'
size = 160
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotationsWithKeypoints', with_bbox=True, with_mask=True),
    dict(type='ResizeWithKeypoints', scale=(size, size), keep_ratio=True),
    dict(type='PackDetKeypointInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeWithKeypoints', scale=(size, size), keep_ratio=True),
    dict(type='PackDetKeypointInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file='annotations/person_keypoints_train.json',
                 data_prefix=dict(img='train/'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file='annotations/person_keypoints_val.json',
                 data_prefix=dict(img='val/'), pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='CocoMetric', ann_file=data_root + 'annotations/person_keypoints_val.json',
         metric=['bbox', 'segm']),
    dict(type='DetKeypointCocoMetric', ann_file=data_root + 'annotations/person_keypoints_val.json'),
]
test_evaluator = val_evaluator

max_epochs = 12
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(_delete_=True, type='FiniteOptimWrapper', max_consecutive_bad_steps=5,
                     optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.05),
                     clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_epochs, T_max=max_epochs,
         eta_min=1e-5),
]
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=max_epochs, save_best=None))
