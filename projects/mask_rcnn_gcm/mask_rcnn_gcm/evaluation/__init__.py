from .keypoint_metric import DetKeypointCocoMetric

__all__ = ['DetKeypointCocoMetric']
