# RTMO-t on COCO: the base recipe at 416x416 with RTMO-t's sizes and no MixUp
# (as MMPose's rtmo-t_8xb32-600e_body7-416x416; MMPose releases RTMO-t for Body7 only).
_base_ = ['../../_base_/rtmo_coco-640x640.py', '../../_base_/rtmo_sizes.py']

input_size = (416, 416)
codec = dict(_base_.codec, input_size=input_size)


def _at_input_size(pipeline: list) -> list:
    """The base's pipeline at this input size (and this codec)."""
    sized = {'Mosaic': 'img_scale', 'BottomupRandomAffine': 'input_size',
             'BottomupResize': 'input_size'}
    return [dict(t, **{sized[t['type']]: input_size}) if t['type'] in sized
            else dict(t, encoder=codec) if t['type'] == 'GenerateTarget' else t
            for t in pipeline]


train_pipeline_stage1 = [t for t in _at_input_size(_base_.train_pipeline_stage1)
                         if t['type'] != 'YOLOXMixUp']
train_pipeline_stage2 = _at_input_size(_base_.train_pipeline_stage2)
val_pipeline = _at_input_size(_base_.val_pipeline)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline_stage1))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader

# the base's hooks, the pipeline switch to this size's second-stage pipeline
custom_hooks = [dict(h, new_train_pipeline=train_pipeline_stage2) if 'new_train_pipeline' in h
                else h for h in _base_.custom_hooks]

size = _base_.rtmo_t
model = dict(
    data_preprocessor=dict(batch_augments=[dict(
        type='BatchSyncRandomResize', random_size_range=(320, 640), size_divisor=32,
        interval=1)]),
    backbone=size.backbone,
    neck=size.neck,
    head=dict(head_module_cfg=size.head_module_cfg),
    test_cfg=dict(input_size=input_size))
