"""Keypoint Mask R-CNN with the Global Context Module (arXiv 2301.04842) on mmdet 3.x.

Importing the package registers, in mmdet's registries: the RoI head
``KeypointMaskRCNNRoIHead``, the heads ``KeypointRCNNHeatmapHead`` and
``GlobalContextModule``, the dataset ``CocoPersonKeypointDataset``, the transforms
``LoadAnnotationsWithKeypoints``, ``ResizeWithKeypoints``, ``RandomFlipWithKeypoints``,
``PackDetKeypointInputs`` and the metric ``DetKeypointCocoMetric``.

It also imports ``rtmo_plugin.checkpoint``: ``torch.load(weights_only=True)`` then reads the
checkpoints mmengine writes (numpy arrays in their ``meta``).
"""
from rtmo_plugin import checkpoint as _checkpoint  # noqa: F401

from .datasets import *  # noqa: F401,F403
from .evaluation import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403
