"""RTMW3D (3-D whole-body pose by coordinate classification) and RTMW's two-stage
distillation, on the rtmo_plugin codec.

Importing the package registers, in MMPose's registries (names MMPose 1.3.2 does not use):

- ``KEYPOINT_CODECS``: ``BoxSimCC3DLabel``
- ``MODELS``: ``RTMW3DSimCCHead``, ``SoftBoneLengthLoss``, ``TopdownPoseEstimator3DCam``
- ``TRANSFORMS``: ``RandomFlip3D``
- ``METRICS``: ``RootRelativeMPJPE``, ``ImageCocoWholeBodyMetric``
- ``DATASETS``: ``CheckedH3WBDataset``
"""
import rtmo_plugin  # noqa: F401  (BoxSimCCLabel and the plugin's hooks)

from .codec import BoxSimCC3DLabel
from .dataset import CheckedH3WBDataset
from .estimator import TopdownPoseEstimator3DCam
from .head import RTMW3DSimCCHead, SoftBoneLengthLoss
from .metrics import ImageCocoWholeBodyMetric, RootRelativeMPJPE
from .transforms import RandomFlip3D

REGISTERED = dict(KEYPOINT_CODECS=('BoxSimCC3DLabel',),
                  MODELS=('RTMW3DSimCCHead', 'SoftBoneLengthLoss', 'TopdownPoseEstimator3DCam'),
                  TRANSFORMS=('RandomFlip3D',),
                  METRICS=('RootRelativeMPJPE', 'ImageCocoWholeBodyMetric'),
                  DATASETS=('CheckedH3WBDataset',))

__all__ = ['REGISTERED', 'BoxSimCC3DLabel', 'CheckedH3WBDataset', 'ImageCocoWholeBodyMetric',
           'RTMW3DSimCCHead', 'RandomFlip3D', 'RootRelativeMPJPE', 'SoftBoneLengthLoss',
           'TopdownPoseEstimator3DCam']
