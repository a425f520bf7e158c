# RTMO-t/m/l as deltas on the model of an RTMO base config (which has RTMO-s's sizes):
# `_base_ = [<recipe base>, '.../_base_/rtmo_sizes.py']`, then
# `model = dict(backbone=_base_.rtmo_m.backbone, neck=_base_.rtmo_m.neck,
#               head=dict(head_module_cfg=_base_.rtmo_m.head_module_cfg))`.
# The one place the sizes live; MMPose 1.3's RTMO configs are the source of the numbers.
_yolox = 'https://download.openmmlab.com/mmdetection/v2.0/yolox/'


def _size(deepen: float, widen: float, in_channels: list, channels: int,
          checkpoint: str) -> dict:
    return dict(
        backbone=dict(deepen_factor=deepen, widen_factor=widen,
                      init_cfg=dict(checkpoint=checkpoint)),
        neck=dict(in_channels=in_channels, deepen_factor=deepen, widen_factor=widen,
                  projector=dict(out_channels=channels)),
        head_module_cfg=dict(widen_factor=widen, pose_vec_channels=channels))


rtmo_t = _size(0.33, 0.375, [96, 192, 384], 192,
               _yolox + 'yolox_tiny_8x8_300e_coco/yolox_tiny_8x8_300e_coco_20211124_171234-b4047906.pth')
rtmo_m = _size(0.67, 0.75, [192, 384, 768], 384,
               'https://download.openmmlab.com/mmpose/v1/pretrained_models/'
               'yolox_m_8x8_300e_coco_20230829.pth')
rtmo_l = _size(1.0, 1.0, [256, 512, 1024], 512,
               _yolox + 'yolox_l_8x8_300e_coco/yolox_l_8x8_300e_coco_20211126_140236-d3bd2b23.pth')
