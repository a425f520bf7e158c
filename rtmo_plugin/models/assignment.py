"""Positive-sample assignment for RTMO: SimOTA per image, gathered into named targets."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import List, Sequence

import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData
from torch import Tensor


@dataclass
class Targets:
    """Targets of a batch; ``P`` priors per image, ``M`` positives in the batch.

    Attributes:
        pos_mask: ``[B * P]`` bool, which priors are positives.
        overlaps: ``[M, 1]`` assignment quality (OKS) of each positive.
        obj_targets: ``[B * P, 1]`` classification targets (0 for negatives;
            the head fills in the positives).
        obj_weights: ``[B * P, 1]`` classification weights (0 on unlabelled people).
        bboxes: ``[M, 4]`` xyxy boxes of the assigned people.
        keypoints: ``[M, K, 2]`` and keypoints_visible: ``[M, K]``.
        keypoints_visible_weights: ``[M, K]`` weights of the visibility loss.
        areas: ``[M]`` areas of the assigned people.
        priors: ``[M, 4]`` priors (x, y, stride_x, stride_y) of the positives.
    """

    pos_mask: Tensor
    overlaps: Tensor
    obj_targets: Tensor
    obj_weights: Tensor
    bboxes: Tensor
    keypoints: Tensor
    keypoints_visible: Tensor
    keypoints_visible_weights: Tensor
    areas: Tensor
    priors: Tensor

    @property
    def num_pos(self) -> int:
        return self.bboxes.size(0)

    @classmethod
    def cat(cls, parts: Sequence[Targets]) -> Targets:
        return cls(*(torch.cat([getattr(p, f.name) for p in parts]) for f in fields(cls)))


def unlabelled_weights(invalid_mask: Tensor, keypoints: Tensor, kpt_vis: Tensor) -> Tensor:
    """Down-weight priors whose predicted person stands on an unlabelled crowd region.

    Args:
        invalid_mask: ``[1, H, W]`` mask of unlabelled people in input pixels.
        keypoints: ``[P, K, 2]`` predicted keypoints; kpt_vis: ``[P, K]`` in [0, 1].

    Returns:
        ``[P, 1]`` weights, 1 minus the mask sampled at each mean visible keypoint.
    """
    visible = (kpt_vis.unsqueeze(-1) > 0.3).float()
    mean_kpts = (keypoints * visible).sum(1) / visible.sum(1).clamp(min=1e-8)
    grid = mean_kpts / (invalid_mask.shape[-1] - 1) * 2 - 1
    sampled = F.grid_sample(invalid_mask.unsqueeze(0).float(), grid.view(1, -1, 1, 2),
                            mode='bilinear', padding_mode='zeros', align_corners=False)
    return 1.0 - sampled.view(-1, 1)


@torch.no_grad()
def assign_image(assigner, priors: Tensor, scores: Tensor, bboxes: Tensor, keypoints: Tensor,
                 kpt_vis: Tensor, data_sample) -> Targets:
    """SimOTA-assign one image's priors to its people.

    Args:
        assigner: a built ``SimOTAAssigner`` (MMPose).
        priors: ``[P, 4]``; scores: ``[P, C]`` probabilities; bboxes: ``[P, 4]``
            decoded xyxy; keypoints: ``[P, K, 2]`` regressed; kpt_vis: ``[P, K]``
            probabilities.
        data_sample: a ``PoseDataSample`` with ``gt_instance_labels``.
    """
    gt = data_sample.gt_instance_labels
    num_priors, num_keypoints = keypoints.shape[:2]
    obj_targets = scores.new_zeros(num_priors, 1)
    pos_inds = scores.new_zeros(0, dtype=torch.long)
    gt_inds = pos_inds
    overlaps = scores.new_zeros(0)
    if len(gt) > 0:
        pred = InstanceData(bboxes=bboxes, scores=scores.sqrt(), priors=priors,
                            keypoints=keypoints, keypoints_visible=kpt_vis)
        result = assigner.assign(pred_instances=pred, gt_instances=gt)
        pos_inds = torch.nonzero(result['gt_inds'] > 0).squeeze(-1)
        gt_inds = result['gt_inds'][pos_inds] - 1
        overlaps = result['max_overlaps'][pos_inds]
        obj_targets[pos_inds] = 1

    invalid_mask = data_sample.get('gt_fields', {}).get('heatmap_mask', None)
    if invalid_mask is not None and (invalid_mask != 0).any():
        obj_weights = unlabelled_weights(invalid_mask, keypoints, kpt_vis)
    else:
        obj_weights = obj_targets.new_ones(num_priors, 1)

    def gather(name: str, empty_shape: List[int]) -> Tensor:
        if len(gt) == 0:
            return scores.new_zeros(empty_shape)
        return getattr(gt, name)[gt_inds]

    keypoints_visible = gather('keypoints_visible', [0, num_keypoints])
    vis_weights = (gather('keypoints_visible_weights', [0, num_keypoints])
                   if 'keypoints_visible_weights' in gt else torch.ones_like(keypoints_visible))
    pos_mask = torch.zeros(num_priors, dtype=torch.bool, device=priors.device)
    pos_mask[pos_inds] = True
    return Targets(
        pos_mask=pos_mask,
        overlaps=overlaps.unsqueeze(-1),
        obj_targets=obj_targets,
        obj_weights=obj_weights,
        bboxes=gather('bboxes', [0, 4]),
        keypoints=gather('keypoints', [0, num_keypoints, 2]),
        keypoints_visible=keypoints_visible,
        keypoints_visible_weights=vis_weights,
        areas=gather('areas', [0]),
        priors=priors[pos_inds])
