# RTMW3D-X as MMPose's release builds it (rtmw3d-x_8xb32_cocktail14-384x288.py there), on H3WB
# only: the RTMW3D-L base with RTMW-x's backbone, neck and batch (_base_/rtmw3d-x_size.py).
# The whole-body mix: rtmw3d-x_8xb32-270e_cocktail14-384x288.py. Published: 0.057 m MPJPE on
# H3WB, 0.680 COCO-WholeBody AP (trained on the mix).
_base_ = ['./_base_/rtmw3d-l_h3wb-384x288.py', './_base_/rtmw3d-x_size.py']

train_batch_size = _base_.rtmw3d_x.batch_size
model = _base_.rtmw3d_x.model
train_dataloader = dict(batch_size=train_batch_size)
