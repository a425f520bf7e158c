"""rtmo_plugin: RTMO one-stage multi-person pose estimation for MMPose.

Importing the package registers, in MMPose's registries:

- ``KEYPOINT_CODECS``: ``BoxSimCCLabel`` (SimCC-style 1-D heatmaps over box bins)
- ``MODELS``: ``RTMOPoseHead`` and ``MLECoordLoss``

and allow-lists the globals that OpenMMLab checkpoints need under
``torch.load(weights_only=True)`` (see :mod:`rtmo_plugin.checkpoint`).
"""
from . import checkpoint  # noqa: F401  (safe-globals allow-list for mmengine checkpoints)
from .codecs import BoxSimCCLabel
from .models import MLECoordLoss, RTMOPoseHead

__version__ = '0.1.0'
__all__ = ['BoxSimCCLabel', 'MLECoordLoss', 'RTMOPoseHead', '__version__']
