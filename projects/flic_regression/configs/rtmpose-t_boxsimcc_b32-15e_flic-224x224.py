# The coordinate-classification baseline: the repository's RTMPose-t (MMPose's RTMPose-t with
# the plugin's BoxSimCCLabel codec), set to FLIC's 29 slots and trained on the regression
# model's data, input size, batch and epochs (its own RTMPose augmentations and optimiser),
# under the same protocol: the torso-box crop, validation on the held-out training frames,
# the test split only tested. Unlabelled slots get keypoint weight 0, so RTMPose's KL loss
# ignores them as the MSE does.
_base_ = ['rtmo_plugin::rtmpose/coco/rtmpose-t_boxsimcc_8xb256-420e_coco-256x192.py',
          './_base_/flic_guards.py']
custom_imports = dict(imports=['rtmo_plugin', 'projects.flic_regression.flic_regression'],
                      allow_failed_imports=False)

input_size = (224, 224)
max_epochs = 15
stage2_num_epochs = 1  # RTMPose's last ~7 % of epochs with milder augmentation
base_lr = 4e-3
data_root = 'data/flic/'
crop = 'torsobox'  # FLIC's protocol ('oracle': ground-truth keypoint box, an upper bound)
# RTMPose's sigmas at 256x192 are (4.9, 5.66) bins; one value between them at 224x224
codec = dict(type='BoxSimCCLabel', input_size=input_size, sigma=(5.3, 5.3),
             simcc_split_ratio=2.0, normalize=False)


def _sized(pipeline: list) -> list:
    """RTMPose's pipeline at this input size and codec, on FLICDataset's padded-crop boxes."""
    changes = {'TopdownAffine': dict(input_size=input_size), 'GenerateTarget': dict(encoder=codec),
               'GetBBoxCenterScale': dict(padding=1.0)}
    return [dict(t, **changes.get(t['type'], {})) for t in pipeline]


train_pipeline = _sized(_base_.train_pipeline)
train_pipeline_stage2 = _sized(_base_.train_pipeline_stage2)
val_pipeline = _sized(_base_.val_pipeline)

train_cfg = dict(max_epochs=max_epochs, val_interval=1)
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0e-5, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', eta_min=base_lr * 0.05, begin=max_epochs // 2,
         end=max_epochs, T_max=max_epochs - max_epochs // 2, by_epoch=True,
         convert_to_iter_based=True),
]
auto_scale_lr = dict(base_batch_size=32)
optim_wrapper = dict(type='FiniteOptimWrapper')  # the plugin's non-finite guard

model = dict(head=dict(out_channels=29, input_size=input_size,
                       in_featuremap_size=(input_size[0] // 32, input_size[1] // 32),
                       decoder=dict(codec, _delete_=True)))

train_dataloader = dict(
    batch_size=32,
    dataset=dict(type='FLICDataset', data_root=data_root, ann_file='examples.mat',
                 data_prefix=dict(img='images/'), split='train', crop=crop,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    dataset=dict(type='FLICDataset', data_root=data_root, ann_file='examples.mat',
                 data_prefix=dict(img='images/'), split='val', crop=crop,
                 pipeline=val_pipeline))
test_dataloader = dict(val_dataloader, dataset=dict(val_dataloader['dataset'], split='test'))
val_evaluator = dict(_delete_=True, type='FLICTorsoPCK', thr=0.2, accuracy_thr=0.5)
test_evaluator = val_evaluator

default_hooks = dict(checkpoint=dict(save_best='flic/PCK', rule='greater', max_keep_ckpts=1),
                     **_base_.flic_guard_hooks)
custom_hooks = [
    dict(h, switch_epoch=max_epochs - stage2_num_epochs, switch_pipeline=train_pipeline_stage2)
    if 'switch_pipeline' in h else h for h in _base_.custom_hooks
] + [dict(type='EarlyStoppingHook', monitor='flic/MSE', rule='less', min_delta=0.0,
        patience=10)]
