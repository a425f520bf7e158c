"""mmdet transforms that carry person keypoints: load, resize, flip, pack.

Keypoints travel as ``gt_keypoints`` ``[N, K, 2]`` (image pixels) and
``gt_keypoints_visible`` ``[N, K]`` next to mmdet's ``gt_bboxes``, and end up as
``gt_instances.keypoints`` / ``gt_instances.keypoints_visible``.
"""
from __future__ import annotations

import numpy as np
from mmdet.datasets.transforms import LoadAnnotations, PackDetInputs, RandomFlip, Resize
from mmdet.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadAnnotationsWithKeypoints(LoadAnnotations):
    """mmdet's ``LoadAnnotations`` plus the instances' keypoints (of
    ``CocoPersonKeypointDataset``)."""

    def transform(self, results: dict) -> dict:
        results = super().transform(results)
        instances = results.get('instances', [])
        if instances and 'keypoints' not in instances[0]:
            raise KeyError('instances have no keypoints: use CocoPersonKeypointDataset')
        num_keypoints = results.get('num_keypoints', 0)
        results['gt_keypoints'] = np.array(
            [inst['keypoints'] for inst in instances], np.float32).reshape(-1, num_keypoints, 2)
        results['gt_keypoints_visible'] = np.array(
            [inst['keypoints_visible'] for inst in instances],
            np.float32).reshape(-1, num_keypoints)
        return results


@TRANSFORMS.register_module()
class ResizeWithKeypoints(Resize):
    """mmdet's ``Resize``; keypoints are scaled like the boxes (``RandomChoiceResize`` takes
    it as ``resize_type``)."""

    def transform(self, results: dict) -> dict:
        results = super().transform(results)
        if results.get('gt_keypoints') is not None:
            scale = np.asarray(results['scale_factor'], np.float32)  # (w, h)
            results['gt_keypoints'] = results['gt_keypoints'] * scale
        return results


@TRANSFORMS.register_module()
class RandomFlipWithKeypoints(RandomFlip):
    """mmdet's ``RandomFlip`` (horizontal only); keypoints are mirrored and left/right
    swapped with the sample's ``flip_indices`` (from the dataset's metafile)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        directions = self.direction if isinstance(self.direction, list) else [self.direction]
        if set(directions) != {'horizontal'}:
            raise ValueError(f'RandomFlipWithKeypoints flips horizontally only, got '
                             f'direction={self.direction!r}: left/right swaps are defined for '
                             'horizontal flips')

    def _flip(self, results: dict) -> None:
        super()._flip(results)
        if results.get('gt_keypoints') is None:
            return
        if 'flip_indices' not in results:
            raise KeyError('RandomFlipWithKeypoints needs the sample\'s flip_indices: use '
                           'CocoPersonKeypointDataset (it adds them from its metafile)')
        order = list(results['flip_indices'])
        keypoints = results['gt_keypoints'][:, order].copy()
        keypoints[..., 0] = results['img'].shape[1] - keypoints[..., 0]
        results['gt_keypoints'] = keypoints
        results['gt_keypoints_visible'] = results['gt_keypoints_visible'][:, order]


@TRANSFORMS.register_module()
class PackDetKeypointInputs(PackDetInputs):
    """mmdet's ``PackDetInputs``; also packs ``gt_keypoints`` and ``gt_keypoints_visible``
    into ``gt_instances.keypoints`` / ``keypoints_visible``."""

    mapping_table = {**PackDetInputs.mapping_table, 'gt_keypoints': 'keypoints',
                     'gt_keypoints_visible': 'keypoints_visible'}
