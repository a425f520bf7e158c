"""The seed's augmentations that MMPose and mmcv do not have: shear, multiplicative brightness
and channel shift (Keras ``ImageDataGenerator`` semantics). Rotation, translation, zoom and
horizontal flip are MMPose's ``RandomBBoxTransform`` and ``RandomFlip``."""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS


def _check_prob(name: str, prob: float) -> None:
    if not 0 <= prob <= 1:
        raise ValueError(f'{name}: prob={prob} must be in [0, 1]')


@TRANSFORMS.register_module()
class TopdownRandomShear(BaseTransform):
    """Horizontal shear of the top-down crop about its centre: ``x' = x + s (y - cy)``, with
    ``s`` uniform in ``[-shear, shear]`` (0.2: a 20 % shear, about 11 degrees).

    Put it after ``TopdownAffine``: it changes ``img`` and ``transformed_keypoints``;
    keypoints sheared out of the crop get weight 0 from the codec.
    """

    def __init__(self, shear: float = 0.2, prob: float = 1.0, pad_val: int = 0) -> None:
        super().__init__()
        if shear < 0:
            raise ValueError(f'TopdownRandomShear: shear={shear} must be >= 0')
        _check_prob('TopdownRandomShear', prob)
        self.shear, self.prob, self.pad_val = shear, prob, pad_val

    def transform(self, results: dict) -> dict:
        if 'transformed_keypoints' not in results:
            raise KeyError('TopdownRandomShear goes after TopdownAffine in the pipeline '
                           '(no transformed_keypoints yet)')
        if np.random.rand() >= self.prob:
            return results
        s = np.random.uniform(-self.shear, self.shear)
        height, width = results['img'].shape[:2]
        matrix = np.array([[1.0, s, -s * (height - 1) / 2], [0.0, 1.0, 0.0]])
        results['img'] = cv2.warpAffine(results['img'], matrix, (width, height),
                                        flags=cv2.INTER_LINEAR, borderValue=self.pad_val)
        kpts = results['transformed_keypoints']
        results['transformed_keypoints'] = np.concatenate(
            [kpts[..., :1] + s * (kpts[..., 1:2] - (height - 1) / 2), kpts[..., 1:]], -1)
        return results


@TRANSFORMS.register_module()
class RandomBrightnessScale(BaseTransform):
    """Multiplies the image by a factor uniform in ``scale`` (Keras ``brightness_range``)."""

    def __init__(self, scale: Sequence[float] = (0.8, 1.2), prob: float = 1.0) -> None:
        super().__init__()
        if len(scale) != 2 or not 0 <= scale[0] <= scale[1]:
            raise ValueError(f'RandomBrightnessScale: scale={scale} must be (low, high), '
                             '0 <= low <= high')
        _check_prob('RandomBrightnessScale', prob)
        self.scale, self.prob = tuple(scale), prob

    def transform(self, results: dict) -> dict:
        if np.random.rand() < self.prob:
            factor = np.random.uniform(*self.scale)
            results['img'] = np.clip(results['img'].astype(np.float32) * factor, 0,
                                     255).astype(np.uint8)
        return results


@TRANSFORMS.register_module()
class RandomChannelShift(BaseTransform):
    """Adds one value uniform in ``[-shift, shift]`` to every channel, clipped to the image's
    own range (Keras ``channel_shift_range``)."""

    def __init__(self, shift: float = 20.0, prob: float = 1.0) -> None:
        super().__init__()
        if shift < 0:
            raise ValueError(f'RandomChannelShift: shift={shift} must be >= 0')
        _check_prob('RandomChannelShift', prob)
        self.shift, self.prob = shift, prob

    def transform(self, results: dict) -> dict:
        if np.random.rand() < self.prob:
            img = results['img']
            shifted = img.astype(np.float32) + np.random.uniform(-self.shift, self.shift)
            results['img'] = np.clip(shifted, img.min(), img.max()).astype(np.uint8)
        return results
