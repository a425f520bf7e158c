"""Keypoint heatmaps of RoIs: one-cell targets, their cross-entropy, and decoding.

A keypoint's target is the one cell of the ``S x S`` heatmap of its RoI that contains it;
the loss is a cross-entropy over the ``S * S`` cells for each labelled keypoint inside its
RoI, averaged over those keypoints (Keypoint R-CNN's normalisation by visible keypoints).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass
class HeatmapTargets:
    """Targets of ``N`` RoIs with ``K`` keypoints each."""
    cells: Tensor   # [N, K] long, ``row * S + column`` of the target cell (0 where invalid)
    valid: Tensor   # [N, K] bool, labelled and inside the RoI


def encode_targets(keypoints: Tensor, visible: Tensor, boxes: Tensor,
                   size: int) -> HeatmapTargets:
    """Target cells of keypoints in the ``size x size`` heatmaps of their RoIs.

    Args:
        keypoints: ``[N, K, 2]`` image coordinates (x, y) of each RoI's matched person.
        visible: ``[N, K]``, > 0 where the keypoint is labelled.
        boxes: ``[N, 4]`` RoIs (x1, y1, x2, y2) in the same coordinates.
        size: the heatmap side ``S``.

    A keypoint on the right or bottom edge of its box belongs to the last cell.
    """
    if keypoints.shape[:-1] != visible.shape or boxes.shape != (keypoints.shape[0], 4):
        raise ValueError(f'encode_targets: keypoints {tuple(keypoints.shape)}, visible '
                         f'{tuple(visible.shape)} and boxes {tuple(boxes.shape)} must be '
                         '[N, K, 2], [N, K] and [N, 4]')
    origin, far = boxes[:, None, :2], boxes[:, None, 2:]
    scale = size / (far - origin)
    cells = ((keypoints - origin) * scale).floor().long()
    cells = torch.where(keypoints == far, torch.full_like(cells, size - 1), cells)
    inside = ((cells >= 0) & (cells < size)).all(-1)
    valid = inside & (visible > 0)
    flat = (cells[..., 1] * size + cells[..., 0]) * valid
    return HeatmapTargets(flat, valid)


def heatmap_loss(logits: Tensor, targets: HeatmapTargets) -> Tensor:
    """Cross-entropy over the cells of each valid keypoint's heatmap, averaged.

    Args:
        logits: ``[N, K, S, S]`` heatmap logits.
        targets: the :func:`encode_targets` of the same RoIs.

    Returns:
        a scalar; ``0 * logits.sum()`` when no keypoint is valid (gradients stay defined).
    """
    if not targets.valid.any():
        return logits.sum() * 0
    flat = logits.flatten(2)[targets.valid]
    return F.cross_entropy(flat, targets.cells[targets.valid])


def decode_heatmaps(logits: Tensor, boxes: Tensor):
    """Image keypoints and scores from RoI heatmaps.

    The peak cell's centre, moved a quarter cell towards the higher of its two neighbours
    along each axis, mapped from the RoI's ``S x S`` grid to the image.

    Args:
        logits: ``[N, K, S, S]`` heatmap logits.
        boxes: ``[N, 4]`` the RoIs the heatmaps cover (x1, y1, x2, y2).

    Returns:
        ``keypoints`` ``[N, K, 2]`` and ``scores`` ``[N, K]`` (the softmax probability of
        the peak cell).
    """
    num, joints, height, width = logits.shape
    if height != width:
        raise ValueError(f'decode_heatmaps: square heatmaps expected, got {height}x{width}')
    probs = logits.flatten(2).softmax(-1)
    scores, peak = probs.max(-1)
    row, col = peak // width, peak % width
    # neighbours through a replicated border: no shift at the edges
    padded = F.pad(logits, (1, 1, 1, 1), mode='replicate').flatten(2)
    stride = width + 2
    centre = (row + 1) * stride + col + 1

    def at(offset: int) -> Tensor:
        return padded.gather(-1, (centre + offset)[..., None])[..., 0]

    shift_x = 0.25 * torch.sign(at(1) - at(-1))
    shift_y = 0.25 * torch.sign(at(stride) - at(-stride))
    cell = torch.stack([col + 0.5 + shift_x, row + 0.5 + shift_y], -1)
    origin, extent = boxes[:, None, :2], (boxes[:, None, 2:] - boxes[:, None, :2])
    return origin + cell * extent / width, scores
