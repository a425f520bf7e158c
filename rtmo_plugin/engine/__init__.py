from .memory_format import ChannelsLastHook
from .optim import MergedGroupsOptimWrapperConstructor

__all__ = ['ChannelsLastHook', 'MergedGroupsOptimWrapperConstructor']
