"""Decoding of the head's dense per-level outputs: flattening levels, boxes and keypoints
from grid priors (used by the head and by the ONNX export)."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor


def flatten_levels(preds: Sequence[Tensor]) -> Tensor:
    """List of ``[B, C, H_l, W_l]`` -> ``[B, sum_l H_l * W_l, C]``."""
    return torch.cat([p.permute(0, 2, 3, 1).flatten(1, 2) for p in preds], dim=1)


def decode_boxes(deltas: Tensor, priors: Tensor) -> Tensor:
    """``[B, P, 4]`` (dx, dy, log w, log h) + priors ``[P, 4]`` (x, y, sx, sy) -> xyxy."""
    centers = deltas[..., :2] * priors[:, 2:] + priors[:, :2]
    half_sizes = deltas[..., 2:].exp() * priors[:, 2:] / 2
    return torch.cat((centers - half_sizes, centers + half_sizes), dim=-1)


def decode_keypoints(offsets: Tensor, priors: Tensor) -> Tensor:
    """``[B, P, 2K]`` offsets in strides + priors ``[P, 4]`` -> ``[B, P, K, 2]`` pixels."""
    offsets = offsets.unflatten(-1, (-1, 2))
    return offsets * priors[:, None, 2:] + priors[:, None, :2]
