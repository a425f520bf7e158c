# RTMW3D-L at the published settings (the base file). Paper, for reference: 0.056 m MPJPE on
# H3WB and 0.678 whole-body AP on COCO-WholeBody (trained on H3WB plus the Cocktail14 2-D mix).
_base_ = ['./_base_/rtmw3d-l_h3wb-384x288.py']
