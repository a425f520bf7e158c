# The paper's model: + refined keypoint features (finest FPN level, 1.3x boxes, 1x1 stem)
# + GCM (COCO val2017 keypoint AP 68.1 there).
_base_ = ['./_base_/kpt-mask-rcnn_r50-fpn_coco.py']
model = dict(roi_head={{_base_.gcm_roi_head}})
