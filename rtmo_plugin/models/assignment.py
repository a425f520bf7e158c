"""Positive-sample assignment for RTMO: SimOTA on a whole batch at once, into named targets.

The results equal MMPose's per-image ``SimOTAAssigner`` (tests/test_assignment.py);
only the loops over images and people are gone. Non-finite predictions (a model that a
diverged step left overflowing) are assigned as zeros instead of failing in the cost's
cross-entropy: the losses of those predictions stay non-finite, and the optimiser wrapper's
guard (:mod:`rtmo_plugin.engine.finite`) skips the step.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from ..numerics import exp_decay


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


def _padded_gts(data_samples: Sequence, num_keypoints: int, like: Tensor) -> dict:
    """GT people of a batch padded to the largest count ``G``: ``[B, G, ...]`` tensors.

    ``valid [B, G]`` marks the real people; padding is zeros.
    """
    counts = [len(s.gt_instance_labels) for s in data_samples]
    size = max(counts + [1])
    shapes = dict(bboxes=(4,), keypoints=(num_keypoints, 2), keypoints_visible=(num_keypoints,),
                  keypoints_visible_weights=(num_keypoints,), areas=())
    padded = {name: like.new_zeros(len(data_samples), size, *shape)
              for name, shape in shapes.items()}
    for i, (sample, count) in enumerate(zip(data_samples, counts)):
        gt = sample.gt_instance_labels
        for name in shapes if count else ():
            if name == 'keypoints_visible_weights' and name not in gt:
                padded[name][i, :count] = 1
            else:
                padded[name][i, :count] = getattr(gt, name).to(like)
    padded['valid'] = torch.arange(size, device=like.device) < like.new_tensor(counts)[:, None]
    return padded


def _pairwise_oks(oks_calculator, keypoints: Tensor, gt: dict,
                  subset: Optional[Sequence[int]] = None) -> Tensor:
    """OKS of every prediction ``[B, P, K, 2]`` with every GT person: ``[B, P, G]``.

    The formula of MMPose's ``PoseOKS`` (its sigmas, if it has them), batched; over the
    keypoints ``subset`` (indices) only, if given.
    """
    gt_kpts, gt_vis = gt['keypoints'], gt['keypoints_visible']
    sigmas = getattr(oks_calculator, 'sigmas', None)
    if subset is not None:
        index = torch.as_tensor(subset, device=keypoints.device)
        keypoints, gt_kpts, gt_vis = (keypoints.index_select(-2, index),
                                      gt_kpts.index_select(-2, index),
                                      gt_vis.index_select(-1, index))
        sigmas = sigmas[list(subset)] if sigmas is not None else None
    dist = torch.norm(keypoints[:, :, None] - gt_kpts[:, None], dim=-1)  # [B, P, G, K]
    dist = dist / gt['areas'].pow(0.5).clip(min=1e-8)[:, None, :, None]
    if sigmas is not None:
        dist = dist / (sigmas.to(dist) * 2)
    weights = gt_vis / gt_vis.sum(-1, keepdim=True).clip(min=1e-8)
    return (exp_decay(-dist.pow(2) / 2) * weights[:, None]).sum(-1)


def _candidates(assigner, priors: Tensor, gt: dict) -> Tuple[Tensor, Tensor]:
    """SimOTA's prior filter: ``[B, P]`` priors inside some GT box or centre region,
    and ``[B, P, G]`` priors inside both the box and the centre region of a GT."""
    xy, strides = priors[:, None, :2], priors[:, None, 2:]                  # [P, 1, 2]
    boxes = gt['bboxes'][:, None]                                            # [B, 1, G, 4]
    in_box = torch.cat((xy - boxes[..., :2], boxes[..., 2:] - xy), -1).min(-1).values > 0
    centres = (boxes[..., :2] + boxes[..., 2:]) / 2.0
    if assigner.use_keypoints_for_center:  # mean visible keypoint where there is one
        vis = gt['keypoints_visible']
        kpt_centres = (gt['keypoints'] * vis[..., None]).sum(-2) / vis.sum(-1, keepdim=True)
        centres = torch.where((vis.sum(-1) > 0)[:, None, :, None], kpt_centres[:, None],
                              centres)
    radius = assigner.center_radius * strides
    in_centre = (torch.cat((xy - (centres - radius), (centres + radius) - xy), -1)
                 .min(-1).values > 0)
    valid_gt = gt['valid'][:, None]
    candidates = ((in_box | in_centre) & valid_gt).any(-1)
    return candidates, in_box & in_centre


def _dynamic_k_matching(assigner, cost: Tensor, quality: Tensor,
                        usable: Tensor) -> Tuple[Tensor, Tensor]:
    """Each GT takes its ``k`` cheapest priors, ``k`` = the sum of its 10 best qualities
    (at least 1); a prior taken twice keeps its cheapest GT.

    Args:
        cost / quality: ``[B, V, G]``; usable: ``[B, V, G]`` real (prior, GT) pairs.

    Returns:
        ``[B, V]`` matched GT index (-1 for none) and ``[B, V]`` quality of the match.
    """
    quality = quality.masked_fill(~usable, 0)
    cost = cost.masked_fill(~usable, float('inf'))
    k_max = min(assigner.candidate_topk, cost.size(1))  # k <= k_max as quality <= 1
    ks = quality.topk(k_max, dim=1).values.sum(1).int().clamp(min=1) * usable.any(1)  # [B, G]
    cheapest = cost.topk(k_max, dim=1, largest=False).indices                 # [B, k_max, G]
    taken = torch.arange(k_max, device=cost.device)[:, None] < ks[:, None]
    matching = torch.zeros_like(usable).scatter_(1, cheapest, taken)
    best = F.one_hot(cost.argmin(-1), cost.size(-1)).bool()
    matching = torch.where(matching.sum(-1, keepdim=True) > 1, best, matching)
    gt_index = torch.where(matching.any(-1), matching.int().argmax(-1), -1)
    overlaps = quality.gather(-1, gt_index.clamp(min=0)[..., None]).squeeze(-1)
    return gt_index, overlaps


def _compact(mask: Tensor) -> Tuple[Tensor, Tensor]:
    """``[B, P]`` mask -> ``[B, V]`` indices of its True entries, in order, padded with
    other indices, and ``[B, V]`` which are real; ``V`` = the largest count."""
    counts = mask.sum(1)
    size = max(int(counts.max()), 1) if mask.numel() else 1
    index = torch.argsort((~mask).to(torch.uint8), dim=1, stable=True)[:, :size]
    return index, torch.arange(size, device=mask.device) < counts[:, None]


@torch.no_grad()
def assign_batch(assigner, priors: Tensor, scores: Tensor, bboxes: Tensor, keypoints: Tensor,
                 kpt_vis: Tensor, data_samples: Sequence,
                 oks_keypoints: Optional[Sequence[int]] = None) -> Targets:
    """SimOTA-assign the priors of a batch of images to their people, with no loop over
    images: MMPose's ``SimOTAAssigner`` results (its hyper-parameters and calculators).

    Args:
        assigner: a built ``SimOTAAssigner`` (MMPose).
        priors: ``[P, 4]``; scores: ``[B, P, 1]`` probabilities; bboxes: ``[B, P, 4]``
            decoded xyxy; keypoints: ``[B, P, K, 2]`` regressed; kpt_vis: ``[B, P, K]``
            probabilities.
        data_samples: ``B`` ``PoseDataSample`` with ``gt_instance_labels``.
        oks_keypoints: indices of the keypoints whose OKS the assignment uses (its cost, the
            dynamic k and the overlaps it returns); None: all K.
    """
    # NaN/inf -> 0 (finite values unchanged): the costs below stay defined
    scores, bboxes, keypoints, kpt_vis = (torch.nan_to_num(t, nan=0.0, posinf=0.0, neginf=0.0)
                                          for t in (scores, bboxes, keypoints, kpt_vis))
    num_images, num_priors, num_keypoints = keypoints.shape[:3]
    gt = _padded_gts(data_samples, num_keypoints, bboxes)
    candidates, in_both = _candidates(assigner, priors, gt)
    # costs only for the V candidates of each image (a fraction of the priors)
    index, real = _compact(candidates)                                        # [B, V]
    rows = torch.arange(num_images, device=index.device)[:, None]
    cand_kpts, cand_vis = keypoints[rows, index], kpt_vis[rows, index]
    # the cost terms in MMPose's order (float sums are order-sensitive)
    cost = (~in_both[rows, index]) * 100000.0                                # [B, V, G]
    ious = assigner.iou_calculator(bboxes[rows, index], gt['bboxes'])
    if assigner.iou_weight > 0:
        cost = cost + -torch.log(ious + 1e-7) * assigner.iou_weight
    oks = _pairwise_oks(assigner.oks_calculator, cand_kpts, gt, oks_keypoints)
    if assigner.oks_weight > 0:
        cost = cost + -torch.log(oks + 1e-7) * assigner.oks_weight
    if assigner.cls_weight > 0:  # BCE against label 1 (one class: people)
        cand_scores = scores[rows, index].sqrt()
        cls_cost = F.binary_cross_entropy(cand_scores, torch.ones_like(cand_scores),
                                          reduction='none').sum(-1, keepdim=True)
        cost = cost + cls_cost * assigner.cls_weight
    if assigner.vis_weight > 0:
        target = gt['keypoints_visible'][:, None].expand(-1, index.size(1), -1, -1)
        vis_cost = F.binary_cross_entropy(
            cand_vis[:, :, None].expand_as(target), target, reduction='none').sum(-1)
        cost = cost + vis_cost * assigner.vis_weight
    quality = oks if assigner.dynamic_k_indicator == 'oks' else ious
    matched, matched_quality = _dynamic_k_matching(
        assigner, cost, quality, real[..., None] & gt['valid'][:, None])
    gt_index = torch.full_like(candidates, -1, dtype=torch.long)
    gt_index[rows, index] = matched                         # padding slots stay unmatched
    overlaps = torch.zeros_like(scores[..., 0])
    overlaps[rows, index] = matched_quality

    pos_mask = (gt_index >= 0).flatten()                                      # [B * P]
    image, prior = pos_mask.view(num_images, num_priors).nonzero(as_tuple=True)
    person = gt_index[image, prior]
    obj_targets = pos_mask[:, None].to(scores)
    obj_weights = torch.ones_like(obj_targets)
    for i, sample in enumerate(data_samples):  # crowd masks come only with some pipelines
        invalid_mask = sample.get('gt_fields', {}).get('heatmap_mask', None)
        if invalid_mask is not None and (invalid_mask != 0).any():
            obj_weights.view(num_images, num_priors, 1)[i] = unlabelled_weights(
                invalid_mask, keypoints[i], kpt_vis[i])
    return Targets(
        pos_mask=pos_mask,
        overlaps=overlaps[image, prior][:, None],
        obj_targets=obj_targets,
        obj_weights=obj_weights,
        bboxes=gt['bboxes'][image, person],
        keypoints=gt['keypoints'][image, person],
        keypoints_visible=gt['keypoints_visible'][image, person],
        keypoints_visible_weights=gt['keypoints_visible_weights'][image, person],
        areas=gt['areas'][image, person],
        priors=priors[prior])


def assign_image(assigner, priors: Tensor, scores: Tensor, bboxes: Tensor, keypoints: Tensor,
                 kpt_vis: Tensor, data_sample) -> Targets:
    """:func:`assign_batch` for one image (``scores [P, C]``, ``bboxes [P, 4]``, ...)."""
    return assign_batch(assigner, priors, scores[None], bboxes[None], keypoints[None],
                        kpt_vis[None], [data_sample])
