# The paper's model on R-101-FPN (COCO val2017 keypoint AP 68.3 there).
_base_ = ['./kpt-mask-rcnn-gcm_r50-fpn-3x_coco.py']
model = dict(backbone=dict(depth=101,
                           init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')))
