# Keypoint Mask R-CNN R-101-FPN.
_base_ = ['./kpt-mask-rcnn_r50-fpn-3x_coco.py']
model = dict(backbone=dict(depth=101,
                           init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')))
