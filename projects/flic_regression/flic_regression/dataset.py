"""FLIC (Sapp & Taskar, CVPR 2013) in MMPose's top-down format, read from FLIC's own
``examples.mat``."""
from __future__ import annotations

import os.path as osp
from typing import List, Optional, Tuple

import numpy as np
from mmpose.datasets.datasets.base import BaseCocoStyleDataset
from mmpose.registry import DATASETS

from . import slots
from .flic_format import CROPS, SPLITS, VAL_FRACTION, Example, crop_box, read_examples, select


@DATASETS.register_module()
class FLICDataset(BaseCocoStyleDataset):
    """FLIC's annotated persons, one top-down sample each.

    ``ann_file`` is FLIC's ``examples.mat`` (``coords`` 2 x 29 with NaN for the 18 slots FLIC
    does not label, ``torsobox``, ``filepath``, ``imgdims``, ``istrain``, ``istest``, ...);
    images are ``data_prefix['img'] / filepath``.

    Per sample: ``keypoints [1, 29, 2]`` (unlabelled slots at 0, never NaN, so that a weight
    of 0 removes them from any loss), ``keypoints_visible [1, 29]`` (1 labelled, 0 not),
    ``bbox [1, 4]`` (the crop, :func:`~.flic_format.crop_box`, already padded: use it with
    ``GetBBoxCenterScale(padding=1.0)``) and, in ``raw_ann_info``, FLIC's coordinates with
    their NaN (``flic_coords [29, 2]``) and the frame size, which the metric scores against.

    Args:
        split: ``'train'`` and ``'val'`` (the ``istrain`` frames without / only the held-out
            fraction ``val_fraction``, :func:`~.flic_format.val_frames`), ``'trainval'``
            (every ``istrain`` frame), ``'test'`` (``istest``) or ``'all'``.
        crop: ``'torsobox'`` (FLIC's protocol: MODEC's upper-body box around ``torsobox``)
            or ``'oracle'`` (a box around the ground-truth keypoints: an upper bound only).
        val_fraction: the fraction of the training frames held out as ``'val'``.
        data_mode: only ``'topdown'`` (FLIC labels one person per example).
        Others: as :class:`BaseCocoStyleDataset`.
    """

    METAINFO: dict = dict(from_file=str(slots.METAINFO_FILE))

    def __init__(self, *args, split: str = 'train', crop: str = 'torsobox',
                 val_fraction: float = VAL_FRACTION, data_mode: str = 'topdown',
                 **kwargs) -> None:
        if split not in SPLITS:
            raise ValueError(f'FLICDataset: split={split!r}, expected one of {SPLITS}')
        if crop not in CROPS:
            raise ValueError(f'FLICDataset: crop={crop!r}, expected one of {CROPS}')
        if data_mode != 'topdown':
            raise ValueError('FLICDataset: FLIC labels one person per example; use '
                             "data_mode='topdown'")
        self.split, self.crop, self.val_fraction = split, crop, val_fraction
        super().__init__(*args, data_mode=data_mode, **kwargs)
        self._check_padding()

    def _check_padding(self) -> None:
        """The boxes are padded crops already: a second padding would shrink every person."""
        for transform in getattr(self.pipeline, 'transforms', []):
            padding = getattr(transform, 'padding', 1.0)
            if type(transform).__name__ == 'GetBBoxCenterScale' and padding != 1.0:
                raise ValueError(f'FLICDataset: GetBBoxCenterScale(padding={padding}) in the '
                                 'pipeline: the dataset\'s boxes are the padded crops '
                                 '(flic_format.crop_box); set padding=1.0')

    def _load_annotations(self) -> Tuple[List[dict], List[dict]]:
        examples = read_examples(self.ann_file)
        try:
            chosen = [(i, examples[i]) for i in select(examples, self.split, self.val_fraction)]
        except ValueError as err:
            raise ValueError(f'FLICDataset: {self.ann_file}: {err}') from None
        if not chosen:
            raise ValueError(f'FLICDataset: {self.ann_file} has {len(examples)} examples, none '
                             f'in split {self.split!r} (istrain / istest flags; val_fraction='
                             f'{self.val_fraction}): the {self.split} set would be empty')
        image_ids = {}
        instances = []
        for index, ex in chosen:
            image_id = image_ids.setdefault(ex.filepath, len(image_ids) + 1)
            info = self._parse_example(index, ex, image_id)
            if info is not None:
                instances.append(info)
        if not instances:  # mmengine would fail later with a message about numpy arrays
            raise ValueError(f'FLICDataset: {self.ann_file}: none of the {len(chosen)} examples '
                             f'of split {self.split!r} has a labelled keypoint (finite coords): '
                             f'the {self.split} set is empty')
        images = [dict(img_id=i, img_path=osp.join(self.data_prefix['img'], path))
                  for path, i in image_ids.items()]
        return instances, images

    def _parse_example(self, index: int, ex: Example, image_id: int) -> Optional[dict]:
        labelled = ex.labelled
        if not labelled.any():
            return None
        height, width = (int(v) for v in ex.imgdims[:2])
        keypoints = np.where(labelled[:, None], ex.coords, 0.0).astype(np.float32)
        try:
            box = crop_box(ex, self.crop)
        except ValueError as err:
            raise ValueError(f'{self.ann_file}: examples({index + 1}): {err}') from None
        return dict(
            img_id=image_id,
            img_path=osp.join(self.data_prefix['img'], ex.filepath),
            bbox=box[None].astype(np.float32),
            bbox_score=np.ones(1, dtype=np.float32),
            num_keypoints=int(labelled.sum()),
            keypoints=keypoints[None],
            keypoints_visible=labelled[None].astype(np.float32),
            iscrowd=0,
            segmentation=None,
            id=index + 1,  # the example's 1-based index in examples.mat, as in MATLAB
            raw_ann_info=dict(flic_coords=ex.coords.tolist(), frame_wh=[width, height],
                              filepath=ex.filepath, torsobox=ex.torsobox.tolist(),
                              crop=self.crop),
        )
