from .amp import Bf16OptimWrapper, FiniteBf16OptimWrapper
from .finetune import KeypointFinetuneHook
from .finite import FiniteAmpOptimWrapper, FiniteOptimWrapper, NonFiniteLossHook
from .memory_format import ChannelsLastHook
from .optim import MergedGroupsOptimWrapperConstructor
from .rng_state import RandomStateHook, ResumeCheckHook
from .swish import FusedGradSwish, FusedSwishHook

__all__ = ['Bf16OptimWrapper', 'ChannelsLastHook', 'FiniteAmpOptimWrapper',
           'FiniteBf16OptimWrapper', 'FiniteOptimWrapper', 'FusedGradSwish', 'FusedSwishHook',
           'KeypointFinetuneHook', 'MergedGroupsOptimWrapperConstructor', 'NonFiniteLossHook',
           'RandomStateHook', 'ResumeCheckHook']
