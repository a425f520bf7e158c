# RTMW3D-X at the published settings: RTMW-x's CSPNeXt (deepen 1.33, widen 1.25) and neck,
# 8 GPUs x 32. Paper, for reference: 0.057 m MPJPE on H3WB, 0.680 COCO-WholeBody AP.
_base_ = ['./_base_/rtmw3d-l_h3wb-384x288.py']

train_batch_size = 32
model = dict(
    backbone=dict(deepen_factor=1.33, widen_factor=1.25, init_cfg=dict(
        checkpoint='https://download.openmmlab.com/mmpose/v1/projects/rtmw/'
                   'rtmw-x_simcc-cocktail14_pt-ucoco_270e-384x288-f840f204_20231122.pth')),
    neck=dict(in_channels=[320, 640, 1280]),
    head=dict(in_channels=1280))
train_dataloader = dict(batch_size=train_batch_size)
