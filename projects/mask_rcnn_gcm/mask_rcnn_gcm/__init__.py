"""Keypoint Mask R-CNN with the Global Context Module on mmdet 3.x.

The model of L. Li, L. Zhao, L. Xu and J. Xu, "Towards High Performance One-Stage Human Pose
Estimation" (doi:10.1145/3551626.3564968, arXiv:2301.04842); the project README traces each
design detail to the paper, the authors' released code or this project's choice.

Importing the package registers, in mmdet's registries: the RoI head
``KeypointMaskRCNNRoIHead``, the heads ``KeypointRCNNHeatmapHead`` and
``GlobalContextModule``, the dataset ``CocoPersonKeypointDataset``, the transforms
``LoadAnnotationsWithKeypoints``, ``ResizeWithKeypoints``, ``RandomFlipWithKeypoints``,
``PackDetKeypointInputs``, the metric ``DetKeypointCocoMetric`` and the hooks
``DetKeypointDataCheckHook`` and ``CheckedLoadFromHook``; and it makes the plugin's
``FiniteOptimWrapper``, ``FiniteAmpOptimWrapper`` and ``NonFiniteLossHook`` reachable from
mmdet's registries.

It also imports ``rtmo_plugin.checkpoint``: ``torch.load(weights_only=True)`` then reads the
checkpoints mmengine writes (numpy arrays in their ``meta``).
"""
from rtmo_plugin import checkpoint as _checkpoint  # noqa: F401

from .datasets import *  # noqa: F401,F403
from .engine import *  # noqa: F401,F403
from .evaluation import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403
