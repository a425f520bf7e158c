"""``RandomFlip3D``: MMPose's ``RandomFlip`` that also mirrors the 3-D keypoints.

MMPose's flip swaps left and right 2-D keypoints by the metainfo's ``flip_indices``; the
3-D labels (``keypoints_3d``, ``lifting_target``) must follow, or a flipped sample learns
the depth of the wrong side's joints. After a horizontal flip of an image ``w`` pixels wide
(pixel ``u`` -> ``w - 1 - u``, as MMPose flips keypoints), a camera-space point keeps its
depth and moves to where its mirrored pixel back-projects::

    X' = (w - 1 - 2 c_x) / f_x * Z - X,   Y' = Y,   Z' = Z

(``X' = -X`` for a camera without known intrinsics, i.e. ``c_x`` at the image centre), and
takes the place of its left/right counterpart.
"""
from __future__ import annotations

import numpy as np
from mmpose.datasets.transforms import RandomFlip
from mmpose.registry import TRANSFORMS

KEYS_3D = ('keypoints_3d', 'lifting_target')


def mirror_camera_points(points: np.ndarray, flip_indices, width: int, f=None,
                         c=None) -> np.ndarray:
    """Camera points ``[N, K, 3]`` of a horizontally flipped image (see the module)."""
    mirrored = np.asarray(points, dtype=np.float32)[:, list(flip_indices)].copy()
    if f is None or c is None:
        mirrored[..., 0] = -mirrored[..., 0]
    else:
        mirrored[..., 0] = (width - 1 - 2 * c[0]) / f[0] * mirrored[..., 2] - mirrored[..., 0]
    return mirrored


@TRANSFORMS.register_module()
class RandomFlip3D(RandomFlip):
    """``RandomFlip`` (same arguments) that mirrors ``keypoints_3d`` and ``lifting_target``
    (and their visibilities) too. Only ``direction='horizontal'`` is supported."""

    def __init__(self, prob=0.5, direction='horizontal') -> None:
        if direction != 'horizontal':
            raise ValueError(f"RandomFlip3D: direction={direction!r}; only 'horizontal' "
                             'keeps camera-space depth meaningful')
        super().__init__(prob=prob, direction=direction)

    def transform(self, results: dict) -> dict:
        results = super().transform(results)
        if not results.get('flip', False):
            return results
        flip_indices = results['flip_indices']
        width = results['img'].shape[1] if 'img' in results else results['img_shape'][1]
        camera = results.get('camera_param')
        camera = camera[0] if isinstance(camera, (list, tuple)) else camera
        f = None if camera is None else camera.get('f')
        c = None if camera is None else camera.get('c')
        for key in KEYS_3D:
            if results.get(key) is not None:
                results[key] = mirror_camera_points(results[key], flip_indices, width, f, c)
            visible = results.get(f'{key}_visible')
            if visible is not None:
                results[f'{key}_visible'] = np.asarray(visible)[:, list(flip_indices)]
        return results
