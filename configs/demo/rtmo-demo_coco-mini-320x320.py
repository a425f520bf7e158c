# The tiny CPU recipe (configs/_base_/rtmo_tiny-cpu-128x128.py) on real people: the same
# small RTMO and schedule shape as the synthetic demo,
# trained from scratch on the 4 photographs of coco-mini (12 labelled people) and evaluated on
# the same 4 (a memorisation test: can the model learn real people's keypoints at all).
# `python tools/real_people.py` trains it next to MMPose's stock recipe for the same budget.
# Only the data, the input size, the augmentation (none) and the schedule's units differ
# from the synthetic demo.
_base_ = ['../_base_/rtmo_tiny-cpu-128x128.py']

input_size = (320, 320)
data_root = '../shared/data/coco-mini/'
# an epoch is one step over the 4 images (batch 4): 1200 steps, the second stage from step 400
max_epochs = 1200
stage2_epoch = 400

codec = dict(type='YOLOXPoseAnnotationProcessor', input_size=input_size)
# a memorisation test: no augmentation (every step sees the 4 photographs as the val
# pipeline does), so what is measured is whether the model can fit real people at all
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='BottomupRandomAffine', input_size=input_size, shift_prob=0, rotate_prob=0,
         scale_prob=0, scale_type='long', pad_val=(114, 114, 114), bbox_keep_corner=False,
         clip_border=True),
    dict(type='FilterAnnotations', by_kpt=True, by_box=True, keep_empty=False),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
val_pipeline = [dict(t, input_size=input_size) if t['type'] == 'BottomupResize' else t
                for t in _base_.val_pipeline]
coco_mini = dict(type='CocoDataset', data_root=data_root, data_mode='bottomup',
                 metainfo=dict(from_file='configs/_base_/datasets/coco.py'),
                 ann_file='person_keypoints.json', data_prefix=dict(img=''))
train_dataloader = dict(batch_size=4, dataset=dict(coco_mini, pipeline=train_pipeline))
val_dataloader = dict(batch_size=4, dataset=dict(coco_mini, test_mode=True,
                                                  pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'person_keypoints.json')
test_evaluator = val_evaluator

model = dict(test_cfg=dict(input_size=input_size))
# the lr its measured numbers were run with (the synthetic demo's is 0.002)
optim_wrapper = dict(optimizer=dict(lr=0.004))

train_cfg = dict(max_epochs=max_epochs, val_interval=200)
# a 100-step warm-up (1/12 of the schedule): with 40 steps the same run ended at AP 0.50
# against 0.56 (docs/training_from_scratch.md)
param_scheduler = [
    dict(type='QuadraticWarmupLR', by_epoch=True, begin=0, end=100, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0001, begin=100, T_max=max_epochs - 100,
         end=max_epochs, by_epoch=True, convert_to_iter_based=True),
]
default_hooks = dict(checkpoint=dict(interval=max_epochs))
custom_hooks = [
    dict(type='ChannelsLastHook'),
    dict(type='SyncNormHook', priority=48),
    dict(type='RTMOModeSwitchHook', priority=48, epoch_attributes={
        stage2_epoch: {'proxy_target_cc': True, 'loss_mle.loss_weight': 5.0,
                       'loss_oks.loss_weight': 10.0}}),
]
