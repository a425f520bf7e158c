# The stage-1 teacher: MMPose's RTMW-l (whole-body, 133 keypoints, 256x192, Cocktail14; MMPose
# reports 66.0 whole-body AP on COCO-WholeBody val) with the plugin's BoxSimCCLabel codec in
# place of SimCCLabel: the plugin's RTMW-m config (where SimCCLabel is replaced) with what
# MMPose's `rtmw-l_8xb1024-270e_cocktail14-256x192.py` changes there: CSPNeXt-L widths and
# backbone checkpoint, weight decay 0.1.
_base_ = ['rtmo_plugin::rtmw/cocktail14/rtmw-m_boxsimcc_8xb1024-270e_cocktail14-256x192.py']

optim_wrapper = dict(optimizer=dict(weight_decay=0.1))
model = dict(
    backbone=dict(
        deepen_factor=1., widen_factor=1.,
        init_cfg=dict(checkpoint='https://download.openmmlab.com/mmpose/v1/projects/rtmposev1/'
                      'rtmpose-l_simcc-ucoco_dw-ucoco_270e-256x192-4d6dfc62_20230728.pth')),
    neck=dict(in_channels=[256, 512, 1024]),
    head=dict(in_channels=1024))
