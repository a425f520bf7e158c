# The tiny CPU recipe: RTMO-t at 2/3 of its width (CSPDarknet widen 0.25) with a 128-d
# encoder, trained from scratch at 128x128 on 2 CPU cores in minutes. Same head, codec, losses,
# assigner and runner as the COCO configs: only the sizes, the augmentation, the schedule and
# CPU-speed settings differ. A config that inherits it states its data (dataset paths, the
# evaluator's annotation file) and what else differs; configs/demo/ holds the two demos.
# No EMA: over ~2,200 steps ExpMomentumEMA's momentum stays above 0.3, so the average is the
# last few steps.
_base_ = ['../rtmo/coco/rtmo-t_8xb32-600e_coco-416x416.py']

input_size = (128, 128)
widen_factor = 0.25
hidden_dim = 128
# 44 epochs of 400 images in steps of 8 (2,200 steps): at 36 the val AP of every seed was still
# rising at the end and the slowest seed stopped short (docs/training_from_scratch.md)
max_epochs = 44
# RTMO's second stage (MLE weight x5, scores learn the DCC's OKS, the regression branch learns
# from the DCC) starts a third of the way in: with fixed deviations the DCC learns from the start
stage2_epoch = 15

codec = dict(type='YOLOXPoseAnnotationProcessor', input_size=input_size)
# no flips: the figures' left limbs are warm and right limbs cool, a mirror would swap that
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='BottomupRandomAffine', input_size=input_size, shift_factor=0.1,
         rotate_factor=10, scale_factor=(0.75, 1.25), pad_val=114, distribution='uniform',
         bbox_keep_corner=False, clip_border=True),
    dict(type='YOLOXHSVRandomAug'),
    dict(type='FilterAnnotations', by_kpt=True, by_box=True, keep_empty=False),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
val_pipeline = [dict(t, input_size=input_size) if t['type'] == 'BottomupResize' else t
                for t in _base_.val_pipeline]
# loading in the main process: a worker process would compete with torch's two threads for
# the two cores (measured: ~10% slower steps), and this pipeline takes ~30 ms per batch
train_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False, pin_memory=False,
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False, pin_memory=False,
    dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader

train_cfg = dict(max_epochs=max_epochs, val_interval=11, dynamic_intervals=None)
# From scratch, a learned MLE deviation lets the DCC widen its targets instead of localising
# (tests/test_rtmo_head.py::test_dcc_behind_a_learned_trunk_needs_fixed_deviations): keep the
# deviation head at its initial value (relative deviation ~0.05) for this short schedule.
# The transformer encoder trains at the full lr: the COCO recipe's lr_mult=0.05 for
# `neck.encoder` leaves a from-scratch encoder nearly at its initialisation for a schedule
# this short, and the runs it held back ended with under-trained limbs (AP 0.30 against 0.59
# at seed 1; docs/training_from_scratch.md).
# fewer parameter groups and a fused AdamW kernel: the same update, 50 ms less per CPU step.
# lr 0.002, half the COCO recipe's 0.004 (set there for a batch of 256, here 8): at 0.004 the
# val AP tracked the cosine decay and the final AP depended on the seed (the per-seed numbers
# of both are in docs/training_from_scratch.md)
optim_wrapper = dict(
    constructor='MergedGroupsOptimWrapperConstructor',
    optimizer=dict(lr=0.002, fused=True),
    paramwise_cfg=dict(custom_keys={'head.dcc.sigma_fc': dict(lr_mult=0.0, decay_mult=0.0),
                                    'neck.encoder': dict(lr_mult=1.0)}))
param_scheduler = [
    dict(type='QuadraticWarmupLR', by_epoch=True, begin=0, end=1, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0001, begin=1, T_max=max_epochs - 1,
         end=max_epochs, by_epoch=True, convert_to_iter_based=True),
]
# channels-last from the base; autograd's Swish backward, not the base's fused one: the
# fused gradient rounds differently, and over 2,200 steps from scratch that moved the
# demo's AP at seed 0 (0.59 against 0.64), so the demos keep the numbers they report
default_hooks = dict(checkpoint=dict(interval=max_epochs, max_keep_ckpts=1),
                     logger=dict(interval=10), fused_swish=dict(enabled=False))
custom_hooks = [  # channels-last comes with the base's default_hooks
    dict(type='SyncNormHook', priority=48),  # tools/demo.py trains in 2 processes on a CPU
    dict(type='RTMOModeSwitchHook', priority=48, epoch_attributes={
        stage2_epoch: {'proxy_target_cc': True, 'loss_mle.loss_weight': 5.0,
                       'loss_oks.loss_weight': 10.0}}),
]
log_processor = dict(window_size=10)

model = dict(
    backbone=dict(widen_factor=widen_factor, init_cfg=None),  # from scratch: no downloads
    neck=dict(
        in_channels=[64, 128, 256],
        widen_factor=widen_factor,
        hidden_dim=hidden_dim,
        encoder_cfg=dict(self_attn_cfg=dict(embed_dims=hidden_dim),
                         ffn_cfg=dict(embed_dims=hidden_dim, feedforward_channels=4 * hidden_dim)),
        projector=dict(in_channels=[hidden_dim, hidden_dim], out_channels=128)),
    head=dict(head_module_cfg=dict(widen_factor=widen_factor, pose_vec_channels=128)),
    data_preprocessor=dict(batch_augments=None),
    test_cfg=dict(input_size=input_size, score_thr=0.1, nms_thr=0.65))
# the README's numbers are this run's; each process augments with its own stream
randomness = dict(seed=0, diff_rank_seed=True)
