# RTMO-s on COCO: the base recipe as it is (MMPose reports 67.3 AP on COCO val2017).
_base_ = ['../../_base_/rtmo_coco-640x640.py']
