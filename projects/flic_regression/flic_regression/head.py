"""The seed's regression head: conv block, dense layers, sigmoid coordinates."""
from __future__ import annotations

from typing import Sequence, Tuple

import torch
from mmpose.models.heads import RegressionHead
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType
from torch import Tensor, nn


@MODELS.register_module()
class SigmoidDenseRegressionHead(RegressionHead):
    """Conv2d + ReLU + BatchNorm + MaxPool, flatten, dense + ReLU layers, dropout, and a dense
    layer of ``num_joints x 2`` sigmoid outputs: each keypoint's (x, y) as a fraction of the
    input crop, which MMPose's ``RegressionLabel`` codec encodes and decodes.

    Training, prediction (with flip test) and decoding are MMPose's ``RegressionHead``'s; the
    loss gets each keypoint's weight, 0 for the slots a dataset does not label (use a loss with
    ``use_target_weight=True``, as the default ``MSELoss``).

    Args:
        in_channels: channels of the last backbone feature (ResNet-50: 2048).
        num_joints: keypoints (FLIC: 29).
        in_featuremap_size: ``(w, h)`` of that feature (input size / 32 for ResNet).
        conv_channels: output channels of the conv block.
        hidden_dims: widths of the dense + ReLU layers.
        dropout: dropout before the output layer.
    """

    def __init__(self,
                 in_channels: int,
                 num_joints: int,
                 in_featuremap_size: Tuple[int, int],
                 conv_channels: int = 256,
                 hidden_dims: Sequence[int] = (1024, 512),
                 dropout: float = 0.5,
                 loss: ConfigType = dict(type='MSELoss', use_target_weight=True),
                 decoder: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(in_channels, num_joints, loss=loss, decoder=decoder, init_cfg=init_cfg)
        del self.fc  # the parent's single linear layer; replaced by the layers below
        width, height = in_featuremap_size
        if min(width, height) < 2:
            raise ValueError(f'SigmoidDenseRegressionHead: in_featuremap_size='
                             f'{in_featuremap_size} is too small for the 2x2 max-pooling '
                             '(set it to the input size / 32 for ResNet)')
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, conv_channels, 3, padding=1), nn.ReLU(inplace=True),
            nn.BatchNorm2d(conv_channels), nn.MaxPool2d(2))
        dims = [conv_channels * (width // 2) * (height // 2), *hidden_dims]
        dense = []
        for d_in, d_out in zip(dims[:-1], dims[1:]):
            dense += [nn.Linear(d_in, d_out), nn.ReLU(inplace=True)]
        self.dense = nn.Sequential(*dense, nn.Dropout(dropout))
        self.out = nn.Linear(dims[-1], num_joints * 2)
        self.in_featuremap_size = (width, height)

    def forward(self, feats: Tuple[Tensor]) -> Tensor:
        """Last feature ``[B, C, h, w]`` -> coordinates ``[B, num_joints, 2]`` in [0, 1]."""
        x = feats[-1]
        if tuple(x.shape[-2:]) != self.in_featuremap_size[::-1]:
            raise ValueError(f'SigmoidDenseRegressionHead: feature map {tuple(x.shape[-2:])} '
                             f'(h, w), configured in_featuremap_size={self.in_featuremap_size} '
                             '(w, h): set it to the input size / 32')
        x = torch.flatten(self.conv(x), 1)
        return self.out(self.dense(x)).sigmoid().reshape(-1, self.num_joints, 2)

    @property
    def default_init_cfg(self):
        # small output weights: the sigmoids start near 0.5 (the crop centre), not saturated
        return [dict(type='Kaiming', layer=['Conv2d', 'Linear'],
                     override=dict(type='Normal', name='out', std=0.01, bias=0)),
                dict(type='Constant', layer='BatchNorm2d', val=1)]
