"""COCO keypoint AP of mmdet detections, with MMPose's ``CocoMetric``."""
from __future__ import annotations

from typing import Dict, Sequence

import numpy as np
from mmdet.registry import METRICS
from mmengine.logging import MMLogger
from mmpose.evaluation.metrics import CocoMetric


def _numpy(value):
    return value.detach().cpu().numpy() if hasattr(value, 'detach') else np.asarray(value)


@METRICS.register_module()
class DetKeypointCocoMetric(CocoMetric):
    """MMPose's ``CocoMetric`` (xtcocotools' ``COCOeval``, OKS with the metainfo's sigmas)
    on the ``keypoints``, ``keypoint_scores``, ``scores`` and ``bboxes`` of mmdet's
    ``pred_instances``.

    Defaults follow the Keypoint R-CNN protocol: each person scored by its box score
    (``score_mode='bbox'``), no keypoint NMS (the detector's box NMS already ran). The
    dataset's metainfo must hold the keypoint metainfo (``CocoPersonKeypointDataset``).
    Other args: those of MMPose's ``CocoMetric`` (``ann_file`` is required).
    """

    def __init__(self, ann_file: str, score_mode: str = 'bbox', nms_mode: str = 'none',
                 **kwargs) -> None:
        super().__init__(ann_file=ann_file, score_mode=score_mode, nms_mode=nms_mode,
                         **kwargs)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Converts mmdet samples to MMPose's layout, then MMPose's ``process``."""
        converted = []
        for sample in data_samples:
            pred = sample['pred_instances']
            if 'keypoints' not in pred:
                raise KeyError('DetKeypointCocoMetric: predictions have no keypoints; the '
                               'model needs a keypoint branch (roi_head.keypoint_head)')
            count = len(pred['scores'])
            converted.append(dict(
                id=list(range(count)),  # a sequence: MMPose then keeps every instance
                img_id=sample['img_id'], ori_shape=sample['ori_shape'],
                category_id=1, gt_instances={},
                pred_instances=dict(keypoints=_numpy(pred['keypoints']),
                                    keypoint_scores=_numpy(pred['keypoint_scores']),
                                    bbox_scores=_numpy(pred['scores']),
                                    bboxes=_numpy(pred['bboxes']))))
        super().process(data_batch, converted)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        if not any(len(pred['bbox_scores']) for pred, _ in results):
            MMLogger.get_current_instance().warning(
                'DetKeypointCocoMetric: the model detected no person in any image; '
                'keypoint AP is 0')
            names = ('AP', 'AP .5', 'AP .75', 'AP (M)', 'AP (L)',
                     'AR', 'AR .5', 'AR .75', 'AR (M)', 'AR (L)')
            return dict.fromkeys(names, 0.0)
        return super().compute_metrics(results)
