# The paper's baseline: Keypoint Mask R-CNN R-50-FPN (COCO val2017 keypoint AP 65.5 there).
_base_ = ['./_base_/kpt-mask-rcnn_r50-fpn_coco.py']
