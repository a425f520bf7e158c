# RTMW3D-X as MMPose's release builds it (rtmw3d-x_8xb32_cocktail14-384x288.py there): RTMW-x's
# CSPNeXt (deepen 1.33, widen 1.25, started from MMPose's RTMPose-x whole-body checkpoint) and
# neck, no dropout in the head's GAU, 8 GPUs x 32. H3WB-only data (the whole-body mix:
# rtmw3d-x_8xb32-270e_cocktail14-384x288.py). Published: 0.057 m MPJPE on H3WB, 0.680
# COCO-WholeBody AP (trained on the mix).
_base_ = ['./_base_/rtmw3d-l_h3wb-384x288.py']

train_batch_size = 32
model = dict(
    backbone=dict(deepen_factor=1.33, widen_factor=1.25, init_cfg=dict(
        checkpoint='https://download.openmmlab.com/mmpose/v1/wholebody_2d_keypoint/rtmpose/'
                   'ubody/rtmpose-x_simcc-ucoco_pt-aic-coco_270e-384x288-f5b50679_20230822.pth')),
    neck=dict(in_channels=[320, 640, 1280]),
    head=dict(in_channels=1280, gau_cfg=dict(dropout_rate=0.)))
train_dataloader = dict(batch_size=train_batch_size)
