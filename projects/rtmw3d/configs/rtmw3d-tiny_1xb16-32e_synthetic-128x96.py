# A tiny RTMW3D for 2 CPU cores: CSPNeXt at deepen 0.167 / widen 0.25, 96x128 input, trained
# from random init on the synthetic H3WB-format data that projects/rtmw3d/tools/demo.py (or
# `python -m projects.rtmw3d.rtmw3d.h3wb data/rtmw3d`) writes. No flip: the synthetic figures
# tell left from right by colour (warm left, cool right), which a mirror would contradict.
# Schedule: 32 epochs of 25 steps of 16 (800 steps, about 5 CPU minutes in one thread on an
# AMD EPYC; the demo trains this model and its z-loss-off twin side by side, one process each).
_base_ = ['./_base_/rtmw3d-l_h3wb-384x288.py']

max_epochs = 32
base_lr = 4e-3
train_batch_size = 16
val_batch_size = 16
input_size = (96, 128)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
randomness = dict(seed=0)
# the plugin's CPU helpers: a handful of optimiser groups, NHWC convolutions
optim_wrapper = dict(constructor='MergedGroupsOptimWrapperConstructor',
                     optimizer=dict(lr=base_lr, weight_decay=0.0))
# a 100-step warm-up (4 epochs): after a 10-step one the left wrist lagged (seed 0: 10.3 px
# against 4.5 px on val, MPJPE 0.188 m against 0.137 m)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', eta_min=base_lr * 0.05, begin=0, end=max_epochs,
         T_max=max_epochs, by_epoch=True, convert_to_iter_based=True),
]
auto_scale_lr = dict(base_batch_size=train_batch_size)

# decoded by expectation (softmax(10 * logits), the loss's beta): between two modes the mean
# position costs less error than the arg-max's pick of one (val MPJPE 0.188 m against 0.213 m).
# z bins: the symmetric layout (193, the middle one at the root), as measured; not MMPose's
codec = dict(type='BoxSimCC3DLabel', input_size=input_size, sigma=(4., 4.62, 4.),
             simcc_split_ratio=2.0, normalize=False, depth_range=2.1744869,
             default_root_depth=5.14388, depth_layout='symmetric',
             decode_mode='expectation', beta=10.)
model = dict(
    backbone=dict(deepen_factor=0.167, widen_factor=0.25, init_cfg=None),
    # the head reads the neck's stride-8 and -16 levels (12x16, 6x8), not RTMW's 16 and 32:
    # at 96x128 a 3x4 top level learnt x and y too slowly (val MPJPE 1.01 m against 0.44 m
    # after 8 epochs)
    neck=dict(in_channels=[64, 128, 256], out_indices=(0, 1), num_csp_blocks=1,
              norm_cfg=dict(type='BN')),
    head=dict(in_channels=128, input_size=input_size,
              in_featuremap_size=tuple(s // 16 for s in input_size),
              final_layer_kernel_size=3,
              # z also reads the stride-8 features where each keypoint is predicted to be
              # (its shade, its width), not only the keypoint's token
              z_from_appearance=True,
              # no bone loss: not measured to help here
              loss_bone=None,
              gau_cfg=dict(hidden_dims=128, s=64, dropout_rate=0.0), decoder=codec))

data_root = 'data/rtmw3d/'
backend_args = dict(backend='local')
train_pipeline = [
    dict(type='LoadImage', backend_args=backend_args),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomBBoxTransform', scale_factor=[0.85, 1.15], rotate_factor=15),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
# the base's val pipeline at this input size and codec
val_pipeline = [dict(t, **{'TopdownAffine': dict(input_size=input_size),
                           'GenerateTarget': dict(encoder=codec)}.get(t['type'], {}))
                for t in _base_.val_pipeline]
train_dataloader = dict(
    batch_size=train_batch_size, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=val_batch_size, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=val_pipeline))
test_dataloader = val_dataloader
# root-relative errors in metres (root: the hips' midpoint), MMPose's MPJPE underneath
val_evaluator = [dict(type='RootRelativeMPJPE', mode='mpjpe'),
                 dict(type='RootRelativeMPJPE', mode='p-mpjpe')]
test_evaluator = val_evaluator

default_hooks = dict(logger=dict(interval=25),
                     checkpoint=dict(save_best=None, interval=max_epochs, max_keep_ckpts=1))
custom_hooks = [dict(type='ChannelsLastHook')]
# the neck's stride-32 output (its last bottom-up block) is computed but unused: DDP (several
# training processes, e.g. `mim train ... --launcher pytorch`) must not wait for its gradients;
# device_ids=None: CPU processes (as rtmo_plugin.launch sets when a config has no wrapper)
model_wrapper_cfg = dict(type='MMDistributedDataParallel', broadcast_buffers=False,
                         device_ids=None, find_unused_parameters=True)
