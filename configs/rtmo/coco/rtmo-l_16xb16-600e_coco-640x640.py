# RTMO-l on COCO: RTMO-m's recipe at full width and depth.
_base_ = ['./rtmo-m_16xb16-600e_coco-640x640.py']

model = dict(
    backbone=dict(
        deepen_factor=1.0,
        widen_factor=1.0,
        init_cfg=dict(checkpoint='https://download.openmmlab.com/mmdetection/v2.0/yolox/'
                      'yolox_l_8x8_300e_coco/yolox_l_8x8_300e_coco_20211126_140236-d3bd2b23.pth')),
    neck=dict(in_channels=[256, 512, 1024], deepen_factor=1.0, widen_factor=1.0,
              projector=dict(out_channels=512)),
    head=dict(head_module_cfg=dict(widen_factor=1.0, pose_vec_channels=512)))
