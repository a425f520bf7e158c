"""COCO person keypoints for mmdet: its CocoDataset, each instance keeping its keypoints."""
from __future__ import annotations

import logging
from typing import List, Union

import numpy as np
from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS
from mmengine.logging import print_log
from mmpose.datasets.datasets.utils import parse_pose_metainfo

from rtmo_plugin.data_checks import DataCheckError

# MMPose's COCO keypoint metainfo (names, flip pairs, OKS sigmas), found in its package
COCO_METAFILE = 'configs/_base_/datasets/coco.py'
# what the pipeline needs from the metainfo, copied into every sample
_PIPELINE_KEYS = ('flip_indices', 'num_keypoints')


@DATASETS.register_module()
class CocoPersonKeypointDataset(CocoDataset):
    """mmdet's ``CocoDataset`` of the person class, with ``keypoints`` ``[K, 2]`` and
    ``keypoints_visible`` ``[K]`` (1 where COCO's v > 0) on every instance.

    The keypoint metainfo (``num_keypoints``, ``flip_indices``, ``sigmas``, ...) comes from
    ``metafile``, an MMPose dataset-info file; it joins the dataset's ``metainfo`` (so that
    the evaluators see the sigmas) and every sample carries ``flip_indices`` for
    :class:`RandomFlipWithKeypoints`.

    Args:
        metafile: MMPose dataset-info file (default: MMPose's COCO file).
        other args: those of mmdet's ``CocoDataset``.
    """

    METAINFO = dict(classes=('person',), palette=[(220, 20, 60)])

    def __init__(self, *args, metafile: str = COCO_METAFILE, **kwargs) -> None:
        self.keypoint_info = parse_pose_metainfo(dict(from_file=metafile))
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        if tuple(metainfo.get('classes', ('person',))) != ('person',):
            raise ValueError(f'CocoPersonKeypointDataset has the one class person, got '
                             f'metainfo.classes={metainfo["classes"]}')
        kwargs['metainfo'] = {**self.keypoint_info, **metainfo, 'classes': ('person',)}
        self._loads_masks, self.changes, self._no_mask = False, [], []
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        """mmdet's loading, with every annotation checked (see :meth:`parse_data_info`):
        the changes are logged, annotations the pipeline cannot use raise
        :class:`~rtmo_plugin.data_checks.DataCheckError` before training starts."""
        self._loads_masks = any(getattr(t, 'with_mask', False)
                                for t in getattr(self.pipeline, 'transforms', []))
        self.changes, self._no_mask = [], []
        data_list = super().load_data_list()
        if self.changes:
            print_log(f'{self.ann_file}: {len(self.changes)} annotations changed while '
                      f'loading:\n  {_listing(self.changes)}', logger='current',
                      level=logging.WARNING)
        if self._no_mask:
            raise DataCheckError(
                f'{self.ann_file}: the pipeline loads masks (LoadAnnotationsWithKeypoints '
                f'with_mask=True, for the mask head) but {len(self._no_mask)} annotations '
                f'have none:\n  {_listing(self._no_mask)}\nAdd their segmentations, or '
                'train without the mask branch (with_mask=False, roi_head.mask_head=None, '
                'roi_head.mask_roi_extractor=None, CocoMetric metric=[\'bbox\'])')
        return data_list

    def parse_data_info(self, raw_data_info: dict) -> Union[dict, List[dict]]:
        """mmdet's parsing, one annotation at a time, so each kept instance gets its own
        keypoints (mmdet's parser drops some annotations: tiny boxes, other classes).

        Checked on the way: an annotation whose ``bbox`` is not finite is dropped (mmdet
        would keep an infinite box); keypoints with a non-finite value, and labelled
        keypoints outside the image frame, become unlabelled; each change is named with the
        file, image id, annotation id and field. Malformed ``bbox`` / ``keypoints`` fields
        and annotations without the ``segmentation`` a mask-loading pipeline needs raise
        :class:`~rtmo_plugin.data_checks.DataCheckError` (the latter after the whole file
        is read, all listed)."""
        img_info = raw_data_info['raw_img_info']
        data_info = super().parse_data_info(dict(raw_img_info=img_info, raw_ann_info=[]))
        frame = (img_info.get('width'), img_info.get('height'))
        for ann in raw_data_info['raw_ann_info']:
            where = (f'{img_info["file_name"]} (image id '
                     f'{img_info.get("img_id", img_info.get("id"))}) annotation id {ann.get("id")}')
            if not np.isfinite(self._numbers(ann, 'bbox', where, 4)).all():
                self.changes.append(f'{where}: field \'bbox\' {ann["bbox"]} is not finite: '
                                     'annotation dropped')
                continue
            kept = super().parse_data_info(dict(raw_img_info=img_info, raw_ann_info=[ann]))
            if not kept['instances']:
                continue
            keypoints = self._keypoints(ann, where, frame)
            instance = kept['instances'][0]
            instance['keypoints'] = keypoints[:, :2]
            instance['keypoints_visible'] = (keypoints[:, 2] > 0).astype(np.float32)
            if self._loads_masks and 'mask' not in instance:
                self._no_mask.append(f'{where}: field \'segmentation\' missing or empty')
            data_info['instances'].append(instance)
        return data_info

    def _numbers(self, ann: dict, key: str, where: str, size: int) -> np.ndarray:
        """``ann[key]`` as ``size`` floats (a missing field: an empty array)."""
        value = ann.get(key)
        if value is None:
            return np.zeros(0)
        try:
            numbers = np.asarray(value, np.float64).reshape(-1)
        except (TypeError, ValueError):
            numbers = None
        if numbers is None or numbers.size != size:
            raise DataCheckError(f'{self.ann_file}: {where}: field \'{key}\' must be {size} '
                                 f'numbers, got {str(value)[:80]}')
        return numbers

    def _keypoints(self, ann: dict, where: str, frame) -> np.ndarray:
        """``[K, 3]`` (x, y, v) of an annotation; bad keypoints unlabelled and logged."""
        count = self.keypoint_info['num_keypoints']
        if not ann.get('keypoints'):
            return np.zeros((count, 3), np.float32)
        if np.size(ann['keypoints']) != 3 * count:
            raise DataCheckError(
                f'{self.ann_file}: {where}: field \'keypoints\' has '
                f'{np.size(ann["keypoints"]) / 3:g} keypoints, the metafile '
                f'{self.keypoint_info["dataset_name"]!r} {count}: pass the dataset\'s metafile')
        values = self._numbers(ann, 'keypoints', where, 3 * count).reshape(count, 3)
        bad = ~np.isfinite(values).all(1)
        labelled = ~bad & (values[:, 2] > 0)
        width, height = (np.inf if v is None else v for v in frame)
        outside = labelled & ((values[:, 0] < 0) | (values[:, 1] < 0)
                              | (values[:, 0] > width) | (values[:, 1] > height))
        for rows, why in ((bad, 'not finite'), (outside, f'outside the {frame[0]}x{frame[1]} '
                                                'image')):
            if rows.any():
                self.changes.append(
                    f'{where}: field \'keypoints\': keypoints {np.flatnonzero(rows).tolist()} '
                    f'{why}: marked unlabelled')
        values[bad | outside] = 0
        return values.astype(np.float32)

    def get_data_info(self, idx: int) -> dict:
        data_info = super().get_data_info(idx)
        data_info.update({key: self.keypoint_info[key] for key in _PIPELINE_KEYS})
        return data_info


def _listing(lines: List[str], limit: int = 10) -> str:
    more = len(lines) - limit
    return '\n  '.join(lines[:limit]) + (f'\n  (+{more} more)' if more > 0 else '')
