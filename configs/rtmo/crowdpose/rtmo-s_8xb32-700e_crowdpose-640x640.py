# RTMO-s on CrowdPose: the CrowdPose base as it is (MMPose reports 67.3 AP on CrowdPose test).
_base_ = ['../../_base_/rtmo_crowdpose-640x640.py']
