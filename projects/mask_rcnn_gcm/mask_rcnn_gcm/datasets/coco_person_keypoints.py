"""COCO person keypoints for mmdet: its CocoDataset, each instance keeping its keypoints."""
from __future__ import annotations

from typing import List, Union

import numpy as np
from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS
from mmpose.datasets.datasets.utils import parse_pose_metainfo

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
        super().__init__(*args, **kwargs)

    def parse_data_info(self, raw_data_info: dict) -> Union[dict, List[dict]]:
        """mmdet's parsing, one annotation at a time, so each kept instance gets its own
        keypoints (mmdet's parser drops some annotations: tiny boxes, other classes)."""
        img_info = raw_data_info['raw_img_info']
        data_info = super().parse_data_info(dict(raw_img_info=img_info, raw_ann_info=[]))
        num_keypoints = self.keypoint_info['num_keypoints']
        for ann in raw_data_info['raw_ann_info']:
            kept = super().parse_data_info(dict(raw_img_info=img_info, raw_ann_info=[ann]))
            if not kept['instances']:
                continue
            values = np.asarray(ann.get('keypoints') or [0] * 3 * num_keypoints, np.float32)
            if values.size != 3 * num_keypoints:
                raise ValueError(
                    f'annotation {ann.get("id")} of {img_info["file_name"]} has '
                    f'{values.size // 3} keypoints, the metafile '
                    f'{self.keypoint_info["dataset_name"]!r} {num_keypoints}: pass the '
                    'dataset\'s metafile')
            values = values.reshape(num_keypoints, 3)
            instance = kept['instances'][0]
            instance['keypoints'] = values[:, :2]
            instance['keypoints_visible'] = (values[:, 2] > 0).astype(np.float32)
            data_info['instances'].append(instance)
        return data_info

    def get_data_info(self, idx: int) -> dict:
        data_info = super().get_data_info(idx)
        data_info.update({key: self.keypoint_info[key] for key in _PIPELINE_KEYS})
        return data_info
