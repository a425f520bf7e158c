# Comparison: the refined features with mmcv's GCNet ContextBlock in place of the GCM.
_base_ = ['./kpt-mask-rcnn-gcm_r50-fpn-3x_coco.py']
model = dict(roi_head=dict(keypoint_head=dict(
    context=dict(_delete_=True, type='ContextBlock', ratio=1. / 16))))
