# The RTMPose-t baseline on synthetic FLIC at 64x64, from random init, with the regression
# demo's data, batch and epochs (tools/demo.py sets the same number for both): no pretrained
# backbone (nothing is downloaded), no horizontal flip in training or testing (the synthetic
# figures' left/right colour cue), loading in the main process (2 cores).
_base_ = ['./rtmpose-t_boxsimcc_b32-15e_flic-224x224.py']

input_size = (64, 64)
data_root = 'data/flic_regression/synthetic/'
codec = dict(type='BoxSimCCLabel', input_size=input_size, sigma=(1.5, 1.5),  # 5.3 x 64/224
             simcc_split_ratio=2.0, normalize=False)


def _sized(pipeline: list) -> list:
    """The base's pipeline at this input size and codec, without flips."""
    changes = {'TopdownAffine': dict(input_size=input_size), 'GenerateTarget': dict(encoder=codec)}
    return [dict(t, **changes.get(t['type'], {})) for t in pipeline if t['type'] != 'RandomFlip']


train_pipeline = _sized(_base_.train_pipeline)
train_pipeline_stage2 = _sized(_base_.train_pipeline_stage2)
val_pipeline = _sized(_base_.val_pipeline)
_loader = dict(num_workers=0, persistent_workers=False)
train_dataloader = dict(**_loader, dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(**_loader, dataset=dict(data_root=data_root, pipeline=val_pipeline))
test_dataloader = val_dataloader

model = dict(
    backbone=dict(init_cfg=None),
    head=dict(input_size=input_size,
              in_featuremap_size=(input_size[0] // 32, input_size[1] // 32),
              decoder=dict(codec, _delete_=True)),
    test_cfg=dict(flip_test=False))
# a 10-step warm-up: the demo trains about a hundred steps in all
param_scheduler = [dict(_base_.param_scheduler[0], end=10), _base_.param_scheduler[1]]
custom_hooks = [dict(h, switch_pipeline=train_pipeline_stage2) if 'switch_pipeline' in h else h
                for h in _base_.custom_hooks]
default_hooks = dict(logger=dict(interval=5))
