"""FLIC's torso PCK, frame-normalised MSE and Accuracy as an mmengine metric."""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmpose.registry import METRICS

from . import slots
from .pck import flic_metrics


@METRICS.register_module()
class FLICTorsoPCK(BaseMetric):
    """PCK normalised by torso size (left shoulder to right hip, as FLIC's evaluation), overall
    and for elbows and wrists, plus the MSE of [0, 1] frame coordinates and an Accuracy (PCK at
    the looser ``accuracy_thr``). Formulas: the project README and :mod:`.pck`.

    Scores each sample's ``pred_instances.keypoints[0]`` (frame pixels) against FLIC's
    coordinates in ``raw_ann_info`` (:class:`~.dataset.FLICDataset` puts them there), so the
    18 unlabelled slots never count.

    Output keys (``prefix='flic'``): ``flic/PCK``, ``flic/PCK_elbow``, ``flic/PCK_wrist``,
    ``flic/MSE``, ``flic/Accuracy``, ``flic/missed``.

    Args:
        thr: PCK threshold as a fraction of the torso size (FLIC: 0.2).
        accuracy_thr: the threshold of ``Accuracy`` (0.5).
    """

    default_prefix = 'flic'

    def __init__(self, thr: float = 0.2, accuracy_thr: float = 0.5,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not 0 < thr <= accuracy_thr:
            raise ValueError(f'FLICTorsoPCK: need 0 < thr ({thr}) <= accuracy_thr '
                             f'({accuracy_thr}): Accuracy is the looser PCK')
        self.thr, self.accuracy_thr = thr, accuracy_thr

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            raw = sample.get('raw_ann_info') or {}
            if 'flic_coords' not in raw:
                raise KeyError('FLICTorsoPCK needs raw_ann_info.flic_coords: evaluate a '
                               "FLICDataset and keep 'raw_ann_info' in PackPoseInputs' meta_keys")
            pred = np.asarray(sample['pred_instances']['keypoints'], np.float64)[0, :, :2]
            self.results.append(dict(pred=pred, gt=np.asarray(raw['flic_coords'], np.float64),
                                     frame_wh=np.asarray(raw['frame_wh'], np.float64)))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        metrics = flic_metrics(
            np.stack([r['pred'] for r in results]), np.stack([r['gt'] for r in results]),
            np.stack([r['frame_wh'] for r in results]), slots.TORSO, slots.GROUPS,
            self.thr, self.accuracy_thr)
        MMLogger.get_current_instance().info(
            f'FLIC: {len(results)} persons, ' + ', '.join(f'{k} {v:.4f}'
                                                         for k, v in metrics.items()))
        return metrics
