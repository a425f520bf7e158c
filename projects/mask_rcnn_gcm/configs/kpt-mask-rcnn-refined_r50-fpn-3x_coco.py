# Ablation: the refined keypoint features alone (finest FPN level, 1.3x boxes), no GCM.
_base_ = ['./_base_/kpt-mask-rcnn_r50-fpn_coco.py']
model = dict(roi_head=dict(keypoint_box_scale=1.3,
                           keypoint_roi_extractor=dict(featmap_strides=[4])))
