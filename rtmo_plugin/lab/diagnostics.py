"""How far each of RTMO's two keypoint branches is from the labelled people.

RTMO predicts keypoints twice per grid cell: the DCC (the keypoints it outputs) and the
training-only regression branch (offsets per cell, which select positives while training).
From scratch the regression branch often localises long before the DCC does; this module
measures both on labelled images, for any trained RTMO whose weights load into the plugin's
head (the plugin's and MMPose 1.3's RTMO share one state-dict layout).

For each labelled person (at least one keypoint) and each branch: the best COCO OKS over all
grid cells, and the mean keypoint error (original-image pixels) of the cell that reaches it.
"""
from __future__ import annotations

from typing import Dict, List, Sequence

import numpy as np
import torch
from torch import Tensor

from rtmo_plugin.models.decoding import decode_boxes, decode_keypoints, flatten_levels


@torch.no_grad()
def branch_keypoints(model, inputs: Tensor, data_samples: list) -> Dict[str, Tensor]:
    """Both branches' keypoints at every grid cell, in input pixels.

    ``model``: a plugin ``BottomupPoseEstimator`` (eval mode); ``inputs [B, 3, H, W]`` as its
    data preprocessor returns them. Returns ``dcc`` and ``regression`` ``[B, P, K, 2]``.
    """
    head = model.head
    feats = model.extract_feat(inputs)
    branches = head.head_module
    was_training = branches.training
    branches.training = True  # only this module's flag: it then also returns the offsets;
    try:                      # its norms (own flags) stay in eval mode
        outputs = head.forward(feats)
    finally:
        branches.training = was_training
    priors = head._priors(outputs)
    bboxes = decode_boxes(flatten_levels(outputs.bbox_preds), priors)
    regression = decode_keypoints(flatten_levels(outputs.kpt_offsets), priors)
    pose_vecs = flatten_levels(outputs.pose_feats)
    dcc = torch.stack([head.dcc(vecs, boxes, priors[:, :2]).keypoints
                       for vecs, boxes in zip(pose_vecs, bboxes)])
    return dict(dcc=dcc, regression=regression)


def _to_input(points: np.ndarray, meta: dict) -> np.ndarray:
    """Original-image pixels -> the val pipeline's input pixels (``BottomupResize``)."""
    scale = np.asarray(meta['input_scale'], dtype=np.float64)
    center = np.asarray(meta['input_center'], dtype=np.float64)
    size = np.asarray(meta['input_size'], dtype=np.float64)
    return (points - center + scale / 2) * size / scale


def best_oks(keypoints: np.ndarray, gt: np.ndarray, area: float,
             sigmas: np.ndarray) -> tuple:
    """COCO OKS of every candidate ``[P, K, 2]`` against one person ``gt [K, 3]`` (v > 0
    labelled); returns ``(best OKS, index of the best candidate)``."""
    labelled = gt[:, 2] > 0
    sq_dist = ((keypoints - gt[None, :, :2]) ** 2).sum(-1)
    variances = (2 * sigmas) ** 2
    oks = np.exp(-sq_dist / (2 * variances * (area + np.spacing(1))))[:, labelled].mean(-1)
    index = int(oks.argmax())
    return float(oks[index]), index


def branch_errors(model, dataloader, sigmas: Sequence[float]) -> Dict[str, float]:
    """Mean best OKS and mean keypoint error (original pixels) of the DCC and the
    regression branch over the labelled people of ``dataloader`` (a val dataloader whose
    samples carry ``raw_ann_info``, as MMPose's ``CocoDataset`` in bottom-up mode gives)."""
    sigmas = np.asarray(sigmas, dtype=np.float64)
    results: Dict[str, List[float]] = {}
    model.eval()
    for batch in dataloader:
        data = model.data_preprocessor(batch, training=False)
        preds = branch_keypoints(model, data['inputs'], data['data_samples'])
        for b, sample in enumerate(data['data_samples']):
            meta = sample.metainfo
            factor = float(np.mean(np.asarray(meta['input_size'])
                                   / np.asarray(meta['input_scale'])))
            for ann in meta['raw_ann_info']:
                gt = np.asarray(ann['keypoints'], dtype=np.float64).reshape(-1, 3)
                if ann.get('iscrowd', 0) or not (gt[:, 2] > 0).any():
                    continue
                gt[:, :2] = _to_input(gt[:, :2], meta)
                area = float(ann['area']) * factor ** 2
                labelled = gt[:, 2] > 0
                for name, kpts in preds.items():
                    kpts = kpts[b].double().cpu().numpy()
                    oks, index = best_oks(kpts, gt, area, sigmas)
                    error = np.linalg.norm(kpts[index] - gt[:, :2], axis=-1)[labelled].mean()
                    results.setdefault(f'{name}_best_oks', []).append(oks)
                    results.setdefault(f'{name}_error_px', []).append(error / factor)
    if not results:
        raise ValueError('branch_errors: the dataloader has no labelled people; it needs '
                         'raw_ann_info with keypoints (a CocoDataset in bottom-up mode)')
    return {key: float(np.mean(values)) for key, values in results.items()}
