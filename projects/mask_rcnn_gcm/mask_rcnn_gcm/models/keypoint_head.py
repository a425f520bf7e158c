"""The keypoint R-CNN head: RoI features -> per-keypoint heatmap logits."""
from __future__ import annotations

from typing import Optional, Sequence

import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from torch import Tensor, nn

from .heatmap import decode_heatmaps, encode_targets, heatmap_loss


@MODELS.register_module()
class KeypointRCNNHeatmapHead(BaseModule):
    """``[N, C, S, S]`` RoI features -> ``[N, K, 4S, 4S]`` keypoint heatmap logits.

    ``num_convs`` conv3x3-ReLU layers of ``conv_channels``, a 4x4 stride-2 deconvolution to
    ``K`` maps, then bilinear upsampling x2 (Keypoint R-CNN: 14x14 RoIs -> 56x56 heatmaps).

    With ``stem``, a 1x1 conv + ReLU first maps the RoI features to ``conv_channels`` (the
    authors' released code has it in their model, not in the plain Keypoint R-CNN head).
    With ``context`` (a module config: ``GlobalContextModule`` or mmcv's GCNet
    ``ContextBlock``, given ``in_channels``), a context module runs before each conv listed
    in ``context_before`` (the authors' code: the 1st and 5th of eight). The stem and the
    context modules are independent: a model with the stem and without context modules
    differs from one with both by the context modules' parameters only.

    Args:
        num_keypoints: K; leave it out when ``metainfo`` is given.
        metainfo: the dataset's MMPose metainfo file, the source of K.
        in_channels: channels of the RoI features (the FPN's).
        conv_channels / num_convs: the conv stack.
        stem: the 1x1 conv + ReLU before the convs (see above).
        context / context_before: see above; ``context=None`` is no context module.
        loss_weight: weight of the heatmap cross-entropy.
    """

    def __init__(self, num_keypoints: Optional[int] = None, metainfo: Optional[str] = None,
                 in_channels: int = 256,
                 conv_channels: int = 512, num_convs: int = 8, stem: bool = False,
                 context: Optional[dict] = None, context_before: Sequence[int] = (0, 4),
                 loss_weight: float = 1.0, init_cfg: Optional[dict] = None) -> None:
        init_cfg = init_cfg or [
            dict(type='Kaiming', layer=['Conv2d', 'ConvTranspose2d'], mode='fan_out',
                 nonlinearity='relu', bias=0)]
        super().__init__(init_cfg=init_cfg)
        if context is not None and not set(context_before) <= set(range(num_convs)):
            raise ValueError(f'keypoint_head.context_before={tuple(context_before)} must '
                             f'index the {num_convs} convs (0 .. {num_convs - 1})')
        self.num_keypoints = _keypoint_count(num_keypoints, metainfo)
        self.loss_weight = loss_weight
        self.context_before = tuple(context_before) if context is not None else ()
        self.stem = (nn.Sequential(nn.Conv2d(in_channels, conv_channels, 1), nn.ReLU())
                     if stem else nn.Identity())
        channels = conv_channels if stem else in_channels
        self.contexts = nn.ModuleDict({  # before conv 0: the stem's (or the RoIs') channels
            str(i): MODELS.build(dict(context, in_channels=channels if i == 0
                                      else conv_channels))
            for i in self.context_before})
        self.convs = nn.ModuleList()
        for _ in range(num_convs):
            self.convs.append(nn.Conv2d(channels, conv_channels, 3, padding=1))
            channels = conv_channels
        self.deconv = nn.ConvTranspose2d(channels, self.num_keypoints, 4, stride=2, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        """``[N, C, S, S]`` RoI features -> ``[N, K, 4S, 4S]`` heatmap logits."""
        x = self.stem(x)
        for i, conv in enumerate(self.convs):
            if str(i) in self.contexts:
                x = self.contexts[str(i)](x)
            x = F.relu(conv(x))
        x = self.deconv(x)
        return F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=False)

    def loss_and_target(self, logits: Tensor, boxes: Tensor, keypoints: Tensor,
                        visible: Tensor) -> dict:
        """The weighted heatmap loss of RoIs and their matched people's keypoints.

        Args:
            logits: ``[N, K, H, H]`` of :meth:`forward`.
            boxes: ``[N, 4]`` the RoIs the features were pooled from.
            keypoints / visible: ``[N, K, 2]`` / ``[N, K]`` of each RoI's matched person.
        """
        targets = encode_targets(keypoints, visible, boxes, logits.shape[-1])
        return dict(loss_keypoint=self.loss_weight * heatmap_loss(logits, targets))

    def predict(self, logits: Tensor, boxes: Tensor):
        """Image keypoints ``[N, K, 2]`` and their scores ``[N, K]``."""
        return decode_heatmaps(logits, boxes)


def _keypoint_count(num_keypoints: Optional[int], metainfo: Optional[str]) -> int:
    if metainfo is None:
        if num_keypoints is None:
            raise ValueError('keypoint_head needs metainfo (the dataset\'s metainfo file) or '
                             'num_keypoints')
        return num_keypoints
    count = parse_pose_metainfo(dict(from_file=metainfo))['num_keypoints']
    if num_keypoints not in (None, count):
        raise ValueError(f'keypoint_head.num_keypoints={num_keypoints} but its metainfo '
                         f'{metainfo} has {count} keypoints: leave num_keypoints out')
    return count
