"""``CocoWholeBodyBottomupDataset``: MMPose's ``CocoWholeBodyDataset`` for bottom-up pipelines.

MMPose 1.3's ``CocoWholeBodyDataset`` keeps each instance's ``category_id`` as a Python int
(``CocoDataset`` makes it an array), so a bottom-up sample's ids end up in a list, which
``FilterAnnotations`` cannot index with its keep-mask: RTMO's second-stage pipeline (no
Mosaic in front to turn them into an array) fails with ``TypeError: only integer scalar
arrays can be converted to a scalar index``. This subclass stores the id as an array, as
``CocoDataset`` does; nothing else differs.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from mmpose.datasets import CocoWholeBodyDataset
from mmpose.registry import DATASETS


@DATASETS.register_module()
class CocoWholeBodyBottomupDataset(CocoWholeBodyDataset):
    """``CocoWholeBodyDataset`` whose instances carry ``category_id`` as an array."""

    def parse_data_info(self, raw_data_info: dict) -> Optional[dict]:
        info = super().parse_data_info(raw_data_info)
        if info is not None:
            info['category_id'] = np.array(info['category_id'])
        return info
