# RTMW3D-X as MMPose's release builds it (rtmw3d-x_8xb32_cocktail14-384x288.py there), on H3WB
# only: the RTMW3D-L base with RTMW-x's backbone and neck (the plugin's
# configs/_base_/rtmw_sizes.py: deepen 1.33, widen 1.25, MMPose's RTMPose-x whole-body
# checkpoint), no dropout in the head's GAU, 8 GPUs x 32. The whole-body mix:
# rtmw3d-x_8xb32-270e_cocktail14-384x288.py. Published: 0.057 m MPJPE on H3WB, 0.680
# COCO-WholeBody AP (trained on the mix).
_base_ = ['./_base_/rtmw3d-l_h3wb-384x288.py',
          'rtmo_plugin::_base_/rtmw_sizes.py']

train_batch_size = 32
model = dict(_base_.rtmw_x, head=dict(_base_.rtmw_x.head, gau_cfg=dict(dropout_rate=0.)))
train_dataloader = dict(batch_size=train_batch_size)
