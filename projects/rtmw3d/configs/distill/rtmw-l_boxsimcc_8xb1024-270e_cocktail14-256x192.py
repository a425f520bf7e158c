# The stage-1 teacher: MMPose's RTMW-l (whole-body, 133 keypoints, 256x192, Cocktail14; MMPose
# reports 66.0 whole-body AP on COCO-WholeBody val) with the plugin's BoxSimCCLabel codec in
# place of SimCCLabel: the plugin's RTMW-m config (where SimCCLabel is replaced) with what
# MMPose's `rtmw-l_8xb1024-270e_cocktail14-256x192.py` changes there: RTMW-l's sizes
# (configs/_base_/rtmw_sizes.py) and weight decay 0.1.
_base_ = ['rtmo_plugin::rtmw/cocktail14/rtmw-m_boxsimcc_8xb1024-270e_cocktail14-256x192.py',
          'rtmo_plugin::_base_/rtmw_sizes.py']

optim_wrapper = dict(optimizer=dict(weight_decay=0.1))
model = _base_.rtmw_l
