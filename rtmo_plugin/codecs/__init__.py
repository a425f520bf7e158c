from .box_simcc import BoxSimCCLabel

__all__ = ['BoxSimCCLabel']
