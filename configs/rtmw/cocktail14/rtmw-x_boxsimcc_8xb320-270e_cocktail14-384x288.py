# MMPose's RTMW-x at 384x288 (MMPose reports 70.2 whole-body AP on COCO-WholeBody val) with
# the plugin's BoxSimCCLabel codec: the RTMW-l 384x288 config with CSPNeXt-X widths and
# backbone checkpoint, as MMPose's `rtmw-x_8xb320-270e_cocktail14-384x288.py` differs from
# its RTMW-l.
_base_ = ['./rtmw-l_boxsimcc_8xb320-270e_cocktail14-384x288.py']

model = dict(
    backbone=dict(
        deepen_factor=1.33, widen_factor=1.25,
        init_cfg=dict(checkpoint='https://download.openmmlab.com/mmpose/v1/'
                      'wholebody_2d_keypoint/rtmpose/ubody/'
                      'rtmpose-x_simcc-ucoco_pt-aic-coco_270e-384x288-f5b50679_20230822.pth')),
    neck=dict(in_channels=[320, 640, 1280]),
    head=dict(in_channels=1280))
