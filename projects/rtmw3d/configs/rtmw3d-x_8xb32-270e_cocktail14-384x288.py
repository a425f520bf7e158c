# RTMW3D-X as MMPose's release trains it (rtmw3d-x_8xb32_cocktail14-384x288.py there): the
# RTMW3D-L whole-body-mix config with RTMW-x's backbone and neck (the plugin's
# configs/_base_/rtmw_sizes.py), no dropout in the head's GAU, 8 GPUs x 32; validated on H3WB
# (MPJPE) and COCO-WholeBody val (AP) in one pass. Published: 0.057 m MPJPE on H3WB, 0.680
# whole-body AP.
_base_ = ['./rtmw3d-l_8xb64-270e_cocktail14-384x288.py',
          'rtmo_plugin::_base_/rtmw_sizes.py']

train_batch_size = 32
model = dict(_base_.rtmw_x, head=dict(_base_.rtmw_x.head, gau_cfg=dict(dropout_rate=0.)))
train_dataloader = dict(batch_size=train_batch_size)
