# RTMO-l on COCO: RTMO-m's recipe at full width and depth (MMPose reports 72.4 AP).
_base_ = ['./rtmo-m_16xb16-600e_coco-640x640.py']

size = _base_.rtmo_l
model = dict(backbone=size.backbone, neck=size.neck,
             head=dict(head_module_cfg=size.head_module_cfg))
