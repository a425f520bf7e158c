# The seed's model and recipe on synthetic FLIC at 64x64, from random init, for a CPU in
# minutes: no ImageNet weights (nothing is downloaded), so nothing is frozen (a frozen random
# backbone has nothing to keep) and every layer learns at Adam's lr 1e-3; no horizontal flip
# (the synthetic figures' left limbs are warm and right limbs cool, a mirror would swap that);
# loading in the main process (2 cores). tools/demo.py sets the epochs.
_base_ = ['./resnet50-regression_b32-15e_flic-224x224.py']

input_size = (64, 64)
data_root = 'data/flic_regression/synthetic/'
codec = dict(type='RegressionLabel', input_size=input_size)


def _sized(pipeline: list) -> list:
    """The base's pipeline at this input size and codec, without flips."""
    changes = {'TopdownAffine': dict(input_size=input_size), 'GenerateTarget': dict(encoder=codec)}
    return [dict(t, **changes.get(t['type'], {})) for t in pipeline if t['type'] != 'RandomFlip']


train_pipeline = _sized(_base_.train_pipeline)
val_pipeline = _sized(_base_.val_pipeline)
_loader = dict(num_workers=0, persistent_workers=False)
train_dataloader = dict(**_loader, dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(**_loader, dataset=dict(data_root=data_root, pipeline=val_pipeline))
test_dataloader = val_dataloader  # merged into the base's test loader: split='test' stays

optim_wrapper = dict(_delete_=True, type='FiniteOptimWrapper',
                     optimizer=dict(type='Adam', lr=1e-3))
model = dict(
    backbone=dict(frozen_stages=-1, init_cfg=None),
    head=dict(in_featuremap_size=(input_size[0] // 32, input_size[1] // 32), decoder=codec))
custom_hooks = [h for h in _base_.custom_hooks if h['type'] != 'BackboneUnfreezeHook']
default_hooks = dict(logger=dict(interval=5))
