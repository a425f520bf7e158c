# Ablation: the refined keypoint features (finest FPN level, 1.3x boxes) and the 1x1 stem,
# no context module: the paper's model (-gcm) minus its GCM.
_base_ = ['./_base_/kpt-mask-rcnn_r50-fpn_coco.py']
model = dict(roi_head={{_base_.refined_roi_head}})
