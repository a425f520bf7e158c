from .gcm import GlobalContextModule
from .heatmap import HeatmapTargets, decode_heatmaps, encode_targets, heatmap_loss
from .keypoint_head import KeypointRCNNHeatmapHead
from .roi_head import KeypointMaskRCNNRoIHead

__all__ = ['GlobalContextModule', 'HeatmapTargets', 'KeypointMaskRCNNRoIHead',
           'KeypointRCNNHeatmapHead', 'decode_heatmaps', 'encode_targets', 'heatmap_loss']
