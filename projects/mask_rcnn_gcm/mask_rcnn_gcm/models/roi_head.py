"""Keypoint (Mask) R-CNN's RoI head for mmdet 3.x: box, optional mask, keypoint branches."""
from __future__ import annotations

import math
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.models.utils import unpack_gt_instances
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi
from mmdet.utils import InstanceList
from torch import Tensor


@MODELS.register_module()
class KeypointMaskRCNNRoIHead(StandardRoIHead):
    """mmdet's ``StandardRoIHead`` plus a keypoint branch.

    The keypoint branch pools each box (training: the positive proposals; inference: the
    detections) with ``keypoint_roi_extractor``, after enlarging it ``keypoint_box_scale``
    times about its centre. Enlarged boxes are not clipped to the image: the feature maps
    are zero-padded so that they contain them, the RoIs shifted by the padding, and targets
    and decoded keypoints refer to the enlarged boxes in image coordinates (the shift is
    undone). The paper's refined features: ``keypoint_box_scale=1.3`` and an extractor on
    the finest FPN level only (``featmap_strides=[4]``).

    Predictions gain ``keypoints`` ``[N, K, 2]`` and ``keypoint_scores`` ``[N, K]``.

    Args:
        keypoint_roi_extractor: an mmdet RoI extractor config (``SingleRoIExtractor``).
        keypoint_head: a :class:`KeypointRCNNHeatmapHead` config.
        keypoint_box_scale: the enlargement of keypoint boxes (1 = none).
        other args: those of ``StandardRoIHead``.
    """

    def __init__(self, *args, keypoint_roi_extractor: Optional[dict] = None,
                 keypoint_head: Optional[dict] = None, keypoint_box_scale: float = 1.0,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if (keypoint_roi_extractor is None) != (keypoint_head is None):
            raise ValueError('roi_head needs both keypoint_roi_extractor and keypoint_head '
                             '(or neither, for a plain Mask R-CNN)')
        if keypoint_box_scale < 1:
            raise ValueError(f'roi_head.keypoint_box_scale={keypoint_box_scale} must be >= 1')
        self.keypoint_box_scale = keypoint_box_scale
        if keypoint_head is not None:
            self.keypoint_roi_extractor = MODELS.build(keypoint_roi_extractor)
            self.keypoint_head = MODELS.build(keypoint_head)

    @property
    def with_keypoint(self) -> bool:
        return getattr(self, 'keypoint_head', None) is not None

    # ---------------------------------------------------------------- training
    def loss(self, x: Tuple[Tensor], rpn_results_list: InstanceList,
             batch_data_samples: SampleList) -> dict:
        """Box, mask and keypoint losses of the sampled proposals."""
        batch_gt_instances, batch_gt_ignore, _ = unpack_gt_instances(batch_data_samples)
        sampling_results = []
        for i, rpn_results in enumerate(rpn_results_list):
            rpn_results.priors = rpn_results.pop('bboxes')
            assigned = self.bbox_assigner.assign(rpn_results, batch_gt_instances[i],
                                                 batch_gt_ignore[i])
            sampling_results.append(self.bbox_sampler.sample(
                assigned, rpn_results, batch_gt_instances[i],
                feats=[level[i][None] for level in x]))
        losses = {}
        bbox_results = self.bbox_loss(x, sampling_results)
        losses.update(bbox_results['loss_bbox'])
        if self.with_mask:
            losses.update(self.mask_loss(x, sampling_results, bbox_results['bbox_feats'],
                                         batch_gt_instances)['loss_mask'])
        if self.with_keypoint:
            losses.update(self.keypoint_loss(x, sampling_results, batch_gt_instances))
        return losses

    def keypoint_loss(self, x: Tuple[Tensor], sampling_results,
                      batch_gt_instances: InstanceList) -> dict:
        """Heatmap loss of the positive proposals against their matched people."""
        for gt in batch_gt_instances:
            if 'keypoints' not in gt:
                raise KeyError('gt_instances have no keypoints: load them with '
                               'LoadAnnotationsWithKeypoints and pack them with '
                               'PackDetKeypointInputs in the training pipeline')
        rois, boxes = self._keypoint_rois([res.pos_priors for res in sampling_results])
        keypoints = torch.cat([gt.keypoints[res.pos_assigned_gt_inds]
                               for gt, res in zip(batch_gt_instances, sampling_results)])
        visible = torch.cat([gt.keypoints_visible[res.pos_assigned_gt_inds]
                             for gt, res in zip(batch_gt_instances, sampling_results)])
        logits = self.keypoint_head(self._keypoint_features(x, rois))
        return self.keypoint_head.loss_and_target(logits, boxes, keypoints.to(boxes),
                                                  visible)

    # ---------------------------------------------------------------- inference
    def predict(self, x: Tuple[Tensor], rpn_results_list: InstanceList,
                batch_data_samples: SampleList, rescale: bool = False) -> InstanceList:
        """Detections with masks and keypoints; ``rescale`` maps them to the original image."""
        metas = [sample.metainfo for sample in batch_data_samples]
        results = self.predict_bbox(x, metas, rpn_results_list, rcnn_test_cfg=self.test_cfg,
                                    rescale=False)
        if self.with_keypoint:
            self.predict_keypoints(x, results)
        if self.with_mask:  # also rescales the boxes, in place
            results = self.predict_mask(x, metas, results, rescale=rescale)
        if rescale:
            for meta, res in zip(metas, results):
                scale = res.bboxes.new_tensor(meta['scale_factor'])
                if not self.with_mask:
                    res.bboxes = res.bboxes / scale.repeat(2)
                if self.with_keypoint:
                    res.keypoints = res.keypoints / scale
        return results

    def predict_keypoints(self, x: Tuple[Tensor], results_list: InstanceList) -> None:
        """Adds ``keypoints`` and ``keypoint_scores`` to each image's detections (in place)."""
        rois, boxes = self._keypoint_rois([res.bboxes for res in results_list])
        keypoints = boxes.new_zeros(0, self.keypoint_head.num_keypoints, 2)
        scores = boxes.new_zeros(0, self.keypoint_head.num_keypoints)
        if len(rois):
            logits = self.keypoint_head(self._keypoint_features(x, rois))
            keypoints, scores = self.keypoint_head.predict(logits, boxes)
        counts = [len(res) for res in results_list]
        for res, kpts, kpt_scores in zip(results_list, keypoints.split(counts),
                                         scores.split(counts)):
            res.keypoints, res.keypoint_scores = kpts, kpt_scores

    def forward(self, x: Tuple[Tensor], rpn_results_list: InstanceList,
                batch_data_samples: SampleList = None) -> tuple:
        """Raw outputs (tensor mode): those of ``StandardRoIHead`` and heatmap logits."""
        outputs = super().forward(x, rpn_results_list, batch_data_samples)
        if self.with_keypoint:
            rois, _ = self._keypoint_rois([res.bboxes[:100] for res in rpn_results_list])
            outputs = outputs + (self.keypoint_head(self._keypoint_features(x, rois)),)
        return outputs

    # ---------------------------------------------------------------- features
    def _keypoint_rois(self, boxes_list: List[Tensor]) -> Tuple[Tensor, Tensor]:
        """``[N, 5]`` RoIs (image index, enlarged box) and their ``[N, 4]`` boxes."""
        rois = bbox2roi(boxes_list)
        if self.keypoint_box_scale != 1:
            rois = self.keypoint_roi_extractor.roi_rescale(rois, self.keypoint_box_scale)
        return rois, rois[:, 1:]

    def _keypoint_features(self, x: Tuple[Tensor], rois: Tensor) -> Tensor:
        """RoI features of ``rois``, on levels zero-padded to contain every RoI."""
        extractor = self.keypoint_roi_extractor
        strides = extractor.featmap_strides
        levels = x[:extractor.num_inputs]
        height, width = (size * strides[0] for size in levels[0].shape[-2:])
        boxes = rois[:, 1:]
        overhang = torch.cat([-boxes[:, :2], boxes[:, 2:3] - width, boxes[:, 3:4] - height],
                             1).max().item() if len(rois) else 0.0
        if overhang <= 0:
            return extractor(levels, rois)
        # a margin all strides divide, one cell more for the bilinear border
        margin = (math.ceil(overhang / max(strides)) + 1) * max(strides)
        padded = [F.pad(level, [margin // stride] * 4) for level, stride in zip(levels, strides)]
        shifted = torch.cat([rois[:, :1], rois[:, 1:] + margin], 1)
        return extractor(padded, shifted)
