# Tiny CPU version of the paper's model: the tiny baseline + refined features + GCM.
_base_ = ['./kpt-mask-rcnn_tiny_synthetic-160.py']
model = dict(roi_head={{_base_.gcm_roi_head}})
