# The paper's baseline: Keypoint Mask R-CNN R-50-FPN with the plain keypoint head (no stem,
# no context module; COCO val2017 keypoint AP 65.5 there, detectron2's model).
_base_ = ['./_base_/kpt-mask-rcnn_r50-fpn_coco.py']
