# RTMW3D-L as MMPose's release builds it, on H3WB only (the base file; the whole-body mix of
# the release: rtmw3d-l_8xb64-270e_cocktail14-384x288.py). Published: 0.056 m MPJPE on H3WB
# and 0.678 whole-body AP on COCO-WholeBody (trained on the mix).
_base_ = ['./_base_/rtmw3d-l_h3wb-384x288.py']
