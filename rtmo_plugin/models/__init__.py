from .mle_loss import MLECoordLoss
from .rtmo_head import RTMOPoseHead

__all__ = ['MLECoordLoss', 'RTMOPoseHead']
