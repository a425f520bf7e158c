# RTMW3D-X as MMPose's release trains it (rtmw3d-x_8xb32_cocktail14-384x288.py there): the
# RTMW3D-L whole-body-mix config with RTMW-x's backbone, neck and batch
# (_base_/rtmw3d-x_size.py); validated on H3WB (MPJPE) and COCO-WholeBody val (AP) in one
# pass. Published: 0.057 m MPJPE on H3WB, 0.680 whole-body AP.
_base_ = ['./rtmw3d-l_8xb64-270e_cocktail14-384x288.py', './_base_/rtmw3d-x_size.py']

train_batch_size = _base_.rtmw3d_x.batch_size
model = _base_.rtmw3d_x.model
train_dataloader = dict(batch_size=train_batch_size)
