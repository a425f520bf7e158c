# MMPose's RTMW-x at 384x288 (MMPose reports 70.2 whole-body AP on COCO-WholeBody val) with
# the plugin's BoxSimCCLabel codec: the RTMW-l 384x288 config with CSPNeXt-X widths and
# backbone checkpoint, as MMPose's `rtmw-x_8xb320-270e_cocktail14-384x288.py` differs from
# its RTMW-l.
_base_ = ['./rtmw-l_boxsimcc_8xb320-270e_cocktail14-384x288.py']

model = _base_.rtmw_x
