"""``TopdownPoseEstimator3DCam``: MMPose's top-down estimator whose predictions end in camera
coordinates.

The head predicts x, y in the input crop and z in metres relative to the root. After
MMPose maps x, y back to the image, each keypoint is back-projected with the sample's
pinhole intrinsics ``f``, ``c`` (pixels)::

    Z = root_depth + z,   X = (u - c_x) / f_x * Z,   Y = (v - c_y) / f_y * Z

``root_depth`` is the sample's ground-truth root depth when it has a 3-D label (the metrics
are root-relative, so it only sets the scale of X and Y) and the codec's
``default_root_depth`` otherwise. ``pred_instances.keypoints`` then hold camera metres
``[1, K, 3]`` and ``pred_instances.keypoints_2d`` the image pixels ``[1, K, 2]``.
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np
from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS

from .codec import PAPER_ROOT_DEPTH


def back_project(pixels: np.ndarray, depth: np.ndarray, f, c) -> np.ndarray:
    """``[..., 2]`` pixels and ``[...]`` depths (metres) -> ``[..., 3]`` camera metres."""
    f, c = np.asarray(f, dtype=np.float64), np.asarray(c, dtype=np.float64)
    xy = (pixels - c) / f * depth[..., None]
    return np.concatenate([xy, depth[..., None]], -1)


# MMPose's RTMW3D estimator assumes this focal length (pixels) for an image without camera
DEFAULT_FOCAL = (1145.04940459, 1143.78109572)


def sample_intrinsics(gt_instances, image_shape) -> Tuple[np.ndarray, np.ndarray]:
    """``(f, c)`` of a sample's ``camera_params``; without them MMPose's RTMW3D default focal
    length and the image centre ``(w / 2, h / 2)`` (an approximation, as for any image of
    unknown camera)."""
    params = gt_instances.get('camera_params', None)
    if params is not None and len(params) and 'f' in params[0]:
        return np.asarray(params[0]['f'], float), np.asarray(params[0]['c'], float)
    height, width = image_shape[:2]
    return np.array(DEFAULT_FOCAL), np.array([width / 2, height / 2])


@MODELS.register_module()
class TopdownPoseEstimator3DCam(TopdownPoseEstimator):
    """Top-down 3-D estimator: predictions in camera coordinates (see the module)."""

    def add_pred_to_datasample(self, batch_pred_instances, batch_pred_fields,
                               batch_data_samples):
        samples = super().add_pred_to_datasample(batch_pred_instances, batch_pred_fields,
                                                 batch_data_samples)
        default_root = getattr(self.head.decoder, 'default_root_depth', PAPER_ROOT_DEPTH)
        for sample in samples:
            pred = sample.pred_instances
            pixels = pred.keypoints[..., :2].copy()
            root = self._root_depth(sample.gt_instances, default_root)
            f, c = sample_intrinsics(sample.gt_instances, sample.metainfo['ori_shape'])
            pred.keypoints_2d = pixels
            pred.keypoints = back_project(pixels, pred.keypoints[..., 2] + root, f, c)
        return samples

    @staticmethod
    def _root_depth(gt_instances, default: float) -> np.ndarray:
        root: Optional[np.ndarray] = gt_instances.get('root_depth', None)
        if root is None:
            return np.full((1, 1), default)
        return np.asarray(root, dtype=np.float64).reshape(-1, 1)
