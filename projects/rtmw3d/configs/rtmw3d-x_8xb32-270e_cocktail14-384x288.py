# RTMW3D-X as MMPose's release trains it (rtmw3d-x_8xb32_cocktail14-384x288.py there): the
# H3WB-only X config plus the release's whole-body training mix; validated on H3WB (MPJPE) and
# COCO-WholeBody val (AP) in one pass. Published: 0.057 m MPJPE on H3WB, 0.680 whole-body AP.
_base_ = ['./rtmw3d-x_8xb32-270e_h3wb-384x288.py', './_base_/rtmw3d_cocktail14_mix.py']

train_dataloader = dict(num_workers=10, dataset=dict(
    _delete_=True, **_base_.mix_train_dataset, pipeline=_base_.train_pipeline))
val_dataloader = dict(num_workers=10, dataset=dict(
    _delete_=True, **_base_.mix_val_dataset, pipeline=_base_.val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, **_base_.mix_val_evaluator)
test_evaluator = val_evaluator
