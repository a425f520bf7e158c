# RTMO-t trained on Body7 (MMPose reports 57.4 AP on COCO val2017): the COCO recipe of
# RTMO-t with the seven-dataset mix; the last epochs train on COCO alone.
_base_ = ['../coco/rtmo-t_8xb32-600e_coco-416x416.py', '../../_base_/body7_bottomup.py']

train_dataloader = dict(dataset=dict(
    _delete_=True, **_base_.body7_train_dataset, metainfo=dict(from_file=_base_.metafile),
    pipeline=_base_.train_pipeline_stage1))
mode_switch, *other_hooks = _base_.custom_hooks
custom_hooks = [dict(mode_switch, new_train_dataset=_base_.body7_coco_dataset), *other_hooks]
