"""rtmo_plugin: RTMO one-stage multi-person pose estimation for MMPose.

Importing the package registers, in MMPose's registries:

- ``KEYPOINT_CODECS``: ``BoxSimCCLabel`` (SimCC-style 1-D heatmaps over box bins)
- ``MODELS``: ``RTMOPoseHead`` and ``MLECoordLoss``
- ``HOOKS``: ``KeypointMetainfoCheckHook`` (datasets and head agree on the keypoints),
  ``ChannelsLastHook`` (NHWC convolutions) and ``KeypointFinetuneHook`` (``load_from`` a
  checkpoint of another keypoint set)
- ``OPTIM_WRAPPER_CONSTRUCTORS``: ``MergedGroupsOptimWrapperConstructor`` (few parameter
  groups)
- ``OPTIM_WRAPPERS``: ``FiniteBf16OptimWrapper`` / ``Bf16OptimWrapper`` (bf16 autocast on
  any device, CPUs included; what ``tools/train.py --amp`` uses on a CPU)
- ``DATASETS``: ``CocoWholeBodyBottomupDataset`` (COCO-WholeBody for bottom-up pipelines)
- reliability (docs/reliability.md): ``OPTIM_WRAPPERS`` ``FiniteOptimWrapper`` /
  ``FiniteAmpOptimWrapper`` (skip non-finite steps), ``HOOKS`` ``NonFiniteLossHook``,
  ``DataCheckHook``, ``InputSizeCheckHook`` and ``RandomStateHook`` (resume = straight run)

allow-lists the globals that OpenMMLab checkpoints need under
``torch.load(weights_only=True)`` (see :mod:`rtmo_plugin.checkpoint`), and lets
mmengine configs inherit ours as ``_base_ = ['rtmo_plugin::rtmo/coco/...py']``.
"""
import os

# MMPose imports albumentations, which otherwise asks PyPI for a newer version (a network
# call, and a warning on every command) each time the plugin is imported
os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')

from mmengine.config.utils import MODULE2PACKAGE  # noqa: E402

# checkpoint: the weights_only allow-list; registry: the scope of rtmo_plugin:: configs
from . import checkpoint, registry  # noqa: F401, E402
from .codecs import BoxSimCCLabel  # noqa: E402
from .data_checks import DataCheckHook  # noqa: E402
from .datasets import CocoWholeBodyBottomupDataset  # noqa: E402
from .engine import (  # noqa: E402
    Bf16OptimWrapper,
    ChannelsLastHook,
    FiniteAmpOptimWrapper,
    FiniteBf16OptimWrapper,
    FiniteOptimWrapper,
    KeypointFinetuneHook,
    MergedGroupsOptimWrapperConstructor,
    NonFiniteLossHook,
    RandomStateHook,
)
from .engine.config_checks import InputSizeCheckHook  # noqa: E402
from .metainfo import KeypointMetainfoCheckHook  # noqa: E402
from .models import MLECoordLoss, RTMOPoseHead  # noqa: E402

# mmengine resolves `scope::path` only for scopes in this table; it then reads
# `<installed path>/.mim/configs/path`, which we ship (mim_anchor says why not 'rtmo_plugin')
MODULE2PACKAGE.setdefault('rtmo_plugin', 'rtmo_plugin.mim_anchor')

__version__ = '0.1.0'
__all__ = ['Bf16OptimWrapper', 'BoxSimCCLabel', 'ChannelsLastHook', 'CocoWholeBodyBottomupDataset',
           'KeypointMetainfoCheckHook', 'MLECoordLoss',
           'MergedGroupsOptimWrapperConstructor', 'RTMOPoseHead', '__version__',
           'DataCheckHook', 'FiniteAmpOptimWrapper', 'FiniteBf16OptimWrapper',
           'FiniteOptimWrapper', 'InputSizeCheckHook',
           'KeypointFinetuneHook',
           'NonFiniteLossHook', 'RandomStateHook']
