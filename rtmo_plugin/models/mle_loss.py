"""Maximum-likelihood loss for coordinate classification (RTMO's MLECC loss)."""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from mmpose.registry import MODELS
from torch import Tensor, nn

# Clamps that never bind for softmax outputs and codec targets (targets are at
# most 1 / min_sigma = 1e3), but keep every finite input finite in float32.
_MAX_TARGET = 1e9
_MAX_LIKELIHOOD = 1e18
_LOG_EPS = 1e-4


@MODELS.register_module()
class MLECoordLoss(nn.Module):
    """MLE loss for dual 1-D heatmaps.

    For each instance ``n`` and keypoint ``k`` the likelihood of the target under
    the predicted per-axis distributions is::

        L[n, k] = prod_axis sum_b  p_axis[n, k, b] * t_axis[n, k, b]

    with predictions ``p`` clamped to [0, 1] (they are probabilities) and
    targets ``t`` to [0, 1e9]; ``L`` is clamped to at most 1e18. The loss is::

        linear:  1 - L          square:  1 - L^2          log:  -log(L + 1e-4)

    times the keypoint weight ``w[n, k]`` if ``use_target_weight``, reduced over
    all ``[N, K]`` entries by ``reduction`` ('none' keeps ``[N, K]``), times
    ``loss_weight``. Every finite input gives a finite loss.

    Args:
        reduction: 'none' | 'mean' | 'sum'.
        mode: 'linear' | 'square' | 'log'.
        use_target_weight: multiply by per-keypoint weights.
        loss_weight: overall multiplier (RTMO's mode switch raises it).
    """

    def __init__(self,
                 reduction: str = 'mean',
                 mode: str = 'log',
                 use_target_weight: bool = False,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError(
                f"MLECoordLoss: reduction={reduction!r}, expected 'none', 'mean' or 'sum'")
        if mode not in ('linear', 'square', 'log'):
            raise ValueError(
                f"MLECoordLoss: mode={mode!r}, expected 'linear', 'square' or 'log'")
        self.reduction = reduction
        self.mode = mode
        self.use_target_weight = use_target_weight
        self.loss_weight = loss_weight

    def forward(self,
                outputs: Sequence[Tensor],
                targets: Sequence[Tensor],
                target_weight: Optional[Tensor] = None) -> Tensor:
        """Args:
            outputs: per-axis predicted distributions, each ``[N, K, B_axis]``.
            targets: per-axis target labels, same shapes as ``outputs``.
            target_weight: ``[N, K]`` keypoint weights (needed if ``use_target_weight``).

        Returns:
            ``[N, K]`` for reduction 'none', else a scalar.
        """
        if len(outputs) != len(targets):
            raise ValueError(
                f'MLECoordLoss: {len(outputs)} output axes but {len(targets)} target axes')
        likelihood = None
        for output, target in zip(outputs, targets):
            axis = (output.clamp(0, 1) * target.clamp(0, _MAX_TARGET)).sum(-1)
            likelihood = axis if likelihood is None else likelihood * axis
        likelihood = likelihood.clamp(max=_MAX_LIKELIHOOD)

        if self.mode == 'linear':
            loss = 1.0 - likelihood
        elif self.mode == 'square':
            loss = 1.0 - likelihood.square()
        else:
            loss = -torch.log(likelihood + _LOG_EPS)

        if self.use_target_weight:
            if target_weight is None:
                raise ValueError('MLECoordLoss: use_target_weight=True needs target_weight')
            loss = loss * target_weight.view(*target_weight.shape,
                                             *([1] * (loss.ndim - target_weight.ndim)))
        if self.reduction == 'mean':
            loss = loss.mean()
        elif self.reduction == 'sum':
            loss = loss.sum()
        return loss * self.loss_weight
