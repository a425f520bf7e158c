"""rtmo_plugin: RTMO one-stage multi-person pose estimation for MMPose.

Importing the package registers, in MMPose's registries:

- ``KEYPOINT_CODECS``: ``BoxSimCCLabel`` (SimCC-style 1-D heatmaps over box bins)
- ``MODELS``: ``RTMOPoseHead`` and ``MLECoordLoss``
- ``HOOKS``: ``KeypointMetainfoCheckHook`` (datasets and head agree on the keypoints)

allow-lists the globals that OpenMMLab checkpoints need under
``torch.load(weights_only=True)`` (see :mod:`rtmo_plugin.checkpoint`), and lets
mmengine configs inherit ours as ``_base_ = ['rtmo_plugin::rtmo/coco/...py']``.
"""
from mmengine.config.utils import MODULE2PACKAGE

from . import checkpoint  # noqa: F401  (safe-globals allow-list for mmengine checkpoints)
from .codecs import BoxSimCCLabel
from .metainfo import KeypointMetainfoCheckHook
from .models import MLECoordLoss, RTMOPoseHead

# mmengine resolves `package::path` only for packages in this table (module -> pip name);
# it then reads `<installed package>/.mim/configs/path`, which we ship
MODULE2PACKAGE.setdefault('rtmo_plugin', 'rtmo_plugin')

__version__ = '0.1.0'
__all__ = ['BoxSimCCLabel', 'KeypointMetainfoCheckHook', 'MLECoordLoss', 'RTMOPoseHead',
           '__version__']
