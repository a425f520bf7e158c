"""ResNet-50 keypoint regression on FLIC, as an MMPose project.

Importing the package registers, in MMPose's registries:

- ``DATASETS``: ``FLICDataset`` (FLIC's ``examples.mat``, 29 slots, 11 labelled)
- ``METRICS``: ``FLICTorsoPCK`` (torso PCK@0.2, elbows, wrists, frame MSE, Accuracy)
- ``MODELS``: ``SigmoidDenseRegressionHead`` (the seed's conv + dense + sigmoid head)
- ``TRANSFORMS``: ``TopdownRandomShear``, ``RandomBrightnessScale``, ``RandomChannelShift``
- ``HOOKS``: ``BackboneUnfreezeHook`` (frozen backbone first, then fine-tuning)

``slots``, ``flic_format`` and ``pck`` import neither torch nor MMPose (the MediaPipe baseline
loads them in its own environment).
"""
from .dataset import FLICDataset
from .head import SigmoidDenseRegressionHead
from .hooks import BackboneUnfreezeHook
from .metric import FLICTorsoPCK
from .transforms import RandomBrightnessScale, RandomChannelShift, TopdownRandomShear

__all__ = ['BackboneUnfreezeHook', 'FLICDataset', 'FLICTorsoPCK', 'RandomBrightnessScale',
           'RandomChannelShift', 'SigmoidDenseRegressionHead', 'TopdownRandomShear']
