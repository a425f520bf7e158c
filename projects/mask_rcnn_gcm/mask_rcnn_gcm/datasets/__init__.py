from .coco_person_keypoints import CocoPersonKeypointDataset
from .transforms import (
                         LoadAnnotationsWithKeypoints,
                         PackDetKeypointInputs,
                         RandomFlipWithKeypoints,
                         ResizeWithKeypoints,
)

__all__ = ['CocoPersonKeypointDataset', 'LoadAnnotationsWithKeypoints',
           'PackDetKeypointInputs', 'RandomFlipWithKeypoints', 'ResizeWithKeypoints']
