# RTMW-l/x as deltas on the model of the plugin's RTMW-m config, as MMPose's RTMW-l/x configs
# differ from its RTMW-m: CSPNeXt depth and width with its backbone checkpoint, the neck's
# input channels, the head's. Only variables: a config inherits an RTMW-m-based config and
# this file, then sets `model = _base_.rtmw_l` (or merges the parts it needs).
_rtmpose = 'https://download.openmmlab.com/mmpose/v1/'


def _size(deepen: float, widen: float, channels: list, checkpoint: str) -> dict:
    return dict(backbone=dict(deepen_factor=deepen, widen_factor=widen,
                              init_cfg=dict(checkpoint=_rtmpose + checkpoint)),
                neck=dict(in_channels=channels), head=dict(in_channels=channels[-1]))


rtmw_l = _size(1., 1., [256, 512, 1024], 'projects/rtmposev1/'
               'rtmpose-l_simcc-ucoco_dw-ucoco_270e-256x192-4d6dfc62_20230728.pth')
rtmw_x = _size(1.33, 1.25, [320, 640, 1280], 'wholebody_2d_keypoint/rtmpose/ubody/'
               'rtmpose-x_simcc-ucoco_pt-aic-coco_270e-384x288-f5b50679_20230822.pth')
