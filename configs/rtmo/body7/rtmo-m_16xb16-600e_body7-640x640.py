# RTMO-m trained on Body7 (MMPose reports 72.6 AP on COCO val2017): the COCO recipe of
# RTMO-m with the seven-dataset mix; the last epochs train on COCO alone.
_base_ = ['../coco/rtmo-m_16xb16-600e_coco-640x640.py', '../../_base_/body7_bottomup.py']

train_dataloader = dict(dataset=dict(
    _delete_=True, **_base_.body7_train_dataset, metainfo=dict(from_file=_base_.metafile),
    pipeline=_base_.train_pipeline_stage1))
mode_switch, *other_hooks = _base_.custom_hooks
custom_hooks = [dict(mode_switch, new_train_dataset=_base_.body7_coco_dataset), *other_hooks]
