# RTMO-m on CrowdPose: RTMO-m's sizes on the CrowdPose recipe (MMPose reports 71.1 AP).
_base_ = ['../../_base_/rtmo_crowdpose-640x640.py', '../../_base_/rtmo_sizes.py']

train_dataloader = dict(batch_size=16)
size = _base_.rtmo_m
model = dict(backbone=size.backbone, neck=size.neck,
             head=dict(head_module_cfg=size.head_module_cfg))
