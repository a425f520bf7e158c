# RTMW3D-X as a delta on the RTMW3D-L configs (rtmw3d-x_8xb32_cocktail14-384x288.py of MMPose's
# release): RTMW-x's CSPNeXt (deepen 1.33, widen 1.25, started from MMPose's RTMPose-x
# whole-body checkpoint) and neck, no dropout in the head's GAU, 8 GPUs x 32. Only a variable:
# an X config inherits its L config and this file, then sets `model` and the batch from it.
rtmw3d_x = dict(
    batch_size=32,
    model=dict(
        backbone=dict(deepen_factor=1.33, widen_factor=1.25, init_cfg=dict(
            checkpoint='https://download.openmmlab.com/mmpose/v1/wholebody_2d_keypoint/'
                       'rtmpose/ubody/'
                       'rtmpose-x_simcc-ucoco_pt-aic-coco_270e-384x288-f5b50679_20230822.pth')),
        neck=dict(in_channels=[320, 640, 1280]),
        head=dict(in_channels=1280, gau_cfg=dict(dropout_rate=0.))))
