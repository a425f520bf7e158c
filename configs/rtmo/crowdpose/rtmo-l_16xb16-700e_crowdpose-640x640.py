# RTMO-l on CrowdPose: RTMO-l's sizes on the CrowdPose recipe (MMPose reports 73.2 AP).
_base_ = ['./rtmo-m_16xb16-700e_crowdpose-640x640.py']

size = _base_.rtmo_l
model = dict(backbone=size.backbone, neck=size.neck,
             head=dict(head_module_cfg=size.head_module_cfg))
