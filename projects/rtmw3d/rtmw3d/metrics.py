"""``RootRelativeMPJPE``: MMPose's MPJPE (and P-MPJPE, N-MPJPE) on root-relative 3-D keypoints.

Both the prediction (``pred_instances.keypoints``, camera metres) and the label
(``gt_instances.lifting_target``) have their root, the midpoint of the hips (keypoints 11
and 12), subtracted before MMPose's ``keypoint_mpjpe`` compares them, so the error is in
metres and does not count the root's absolute position. Keys: ``MPJPE``, ``P-MPJPE`` or
``N-MPJPE`` (by ``mode``), plus ``<key>_body`` over the 17 body keypoints.

``ImageCocoWholeBodyMetric``: MMPose's ``CocoWholeBodyMetric`` on a 3-D model's image
keypoints (``pred_instances.keypoints_2d``, pixels; ``keypoints`` hold camera metres), so the
same model is scored by COCO-WholeBody AP next to MPJPE.
"""
from __future__ import annotations

from typing import Dict, Sequence

import numpy as np
from mmpose.evaluation.functional import keypoint_mpjpe
from mmpose.evaluation.metrics import MPJPE, CocoWholeBodyMetric
from mmpose.registry import METRICS

from .codec import ROOT_INDICES


def root_relative(points: np.ndarray, root_indices=ROOT_INDICES) -> np.ndarray:
    """``[N, K, 3]`` -> the same with the mean of ``root_indices`` subtracted."""
    points = np.asarray(points, dtype=np.float64)
    return points - points[:, list(root_indices)].mean(1, keepdims=True)


@METRICS.register_module()
class RootRelativeMPJPE(MPJPE):
    """MMPose's ``MPJPE`` metric, root-relative (see the module). Same ``mode`` argument."""

    def __init__(self, mode: str = 'mpjpe', root_indices: Sequence[int] = ROOT_INDICES,
                 collect_device: str = 'cpu', prefix=None) -> None:
        super().__init__(mode=mode, collect_device=collect_device, prefix=prefix)
        self.root_indices = tuple(root_indices)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            gt = sample['gt_instances']
            target = np.asarray(gt['lifting_target']).reshape(1, -1, 3)
            pred = np.asarray(sample['pred_instances']['keypoints']).reshape(1, -1, 3)
            if pred.shape != target.shape:
                raise ValueError(f'RootRelativeMPJPE: prediction {pred.shape} and '
                                 f'lifting_target {target.shape} differ; the model must '
                                 'predict every keypoint of the dataset in 3-D')
            mask = np.asarray(gt.get('lifting_target_visible', np.ones(target.shape[:2])))
            self.results.append(dict(pred=root_relative(pred, self.root_indices),
                                     gt=root_relative(target, self.root_indices),
                                     mask=mask.astype(bool).reshape(1, -1)))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        pred = np.concatenate([r['pred'] for r in results])
        gt = np.concatenate([r['gt'] for r in results])
        mask = np.concatenate([r['mask'] for r in results])
        name, alignment = self.mode.upper(), self.ALIGNMENT[self.mode]
        return {name: float(keypoint_mpjpe(pred, gt, mask, alignment)),
                f'{name}_body': float(keypoint_mpjpe(pred[:, :17], gt[:, :17],
                                                     mask[:, :17], alignment))}


@METRICS.register_module()
class ImageCocoWholeBodyMetric(CocoWholeBodyMetric):
    """``CocoWholeBodyMetric`` (same arguments) on ``pred_instances.keypoints_2d``."""

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        image_samples = []
        for sample in data_samples:
            pred = sample['pred_instances']
            if 'keypoints_2d' not in pred:
                raise ValueError('ImageCocoWholeBodyMetric: pred_instances has no keypoints_2d; '
                                 'use it with TopdownPoseEstimator3DCam, or use '
                                 'CocoWholeBodyMetric for a 2-D model')
            image_samples.append(dict(sample, pred_instances=dict(
                pred, keypoints=np.asarray(pred['keypoints_2d'])[..., :2])))
        super().process(data_batch, image_samples)
