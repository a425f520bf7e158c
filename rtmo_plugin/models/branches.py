"""RTMO's convolutional branches: classification and pose convs on every feature level.

Attribute names follow MMPose 1.3's RTMO so that released checkpoints load with
``strict=True``.
"""
from __future__ import annotations

from typing import List, NamedTuple, Optional, Sequence

from mmcv.cnn import ConvModule
from mmengine.model import BaseModule, bias_init_with_prob
from torch import Tensor, nn


class HeadOutputs(NamedTuple):
    """Per-level raw predictions, each a list over levels of ``[B, C, H_l, W_l]``."""

    cls_scores: List[Tensor]    # C = num_classes
    bbox_preds: List[Tensor]    # C = 4: (dx, dy, log w, log h) in strides
    kpt_offsets: List[Tensor]   # C = 2K, only while training (proxy regression)
    kpt_vis: List[Tensor]       # C = K visibility logits
    pose_feats: List[Tensor]    # C = pose vector channels


class RTMOBranches(BaseModule):
    """Classification and pose branches applied to every feature level.

    Each level's input is split in half along channels: the first half feeds
    the classification convs, the second the pose convs (grouped after the
    first layer).
    """

    def __init__(self,
                 num_keypoints: int,
                 in_channels: int,
                 featmap_strides: Sequence[int],
                 num_classes: int = 1,
                 widen_factor: float = 1.0,
                 cls_feat_channels: int = 256,
                 stacked_convs: int = 2,
                 num_groups: int = 8,
                 channels_per_group: int = 36,
                 pose_vec_channels: int = -1,
                 norm_cfg: dict = dict(type='BN', momentum=0.03, eps=0.001),
                 act_cfg: dict = dict(type='SiLU', inplace=True),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        in_channels = int(in_channels * widen_factor)
        cls_channels = int(cls_feat_channels * widen_factor)
        pose_channels = num_groups * int(channels_per_group * widen_factor)
        num_levels = len(featmap_strides)

        def conv_stack(num_convs: int, out_channels: int, groups: int) -> nn.Sequential:
            return nn.Sequential(*[
                ConvModule(in_channels if i == 0 else out_channels, out_channels, 3, padding=1,
                           groups=1 if i == 0 else groups, norm_cfg=norm_cfg, act_cfg=act_cfg)
                for i in range(num_convs)])

        def per_level(make) -> nn.ModuleList:
            return nn.ModuleList(make() for _ in range(num_levels))

        self.conv_cls = per_level(lambda: conv_stack(stacked_convs, cls_channels, 1))
        self.out_cls = per_level(lambda: nn.Conv2d(cls_channels, num_classes, 1))
        self.conv_pose = per_level(lambda: conv_stack(2 * stacked_convs, pose_channels, num_groups))
        self.out_bbox = per_level(lambda: nn.Conv2d(pose_channels, 4, 1))
        self.out_kpt_reg = per_level(lambda: nn.Conv2d(pose_channels, 2 * num_keypoints, 1))
        self.out_kpt_vis = per_level(lambda: nn.Conv2d(pose_channels, num_keypoints, 1))
        if pose_vec_channels > 0:
            self.out_pose = per_level(lambda: nn.Conv2d(pose_channels, pose_vec_channels, 1))
        self.pose_vec_channels = pose_vec_channels if pose_vec_channels > 0 else pose_channels

    def init_weights(self) -> None:
        super().init_weights()
        for conv in self.out_cls:  # prior probability 0.01 keeps early VFL stable
            conv.bias.data.fill_(bias_init_with_prob(0.01))

    def forward(self, feats: Sequence[Tensor]) -> HeadOutputs:
        """``feats``: one ``[B, 2 * C_in, H_l, W_l]`` map per level."""
        out = HeadOutputs([], [], [], [], [])
        for level, feat in enumerate(feats):
            cls_feat, pose_feat = feat.chunk(2, dim=1)
            cls_feat = self.conv_cls[level](cls_feat)
            pose_feat = self.conv_pose[level](pose_feat)
            out.cls_scores.append(self.out_cls[level](cls_feat))
            out.bbox_preds.append(self.out_bbox[level](pose_feat))
            if self.training:
                out.kpt_offsets.append(self.out_kpt_reg[level](pose_feat))
            out.kpt_vis.append(self.out_kpt_vis[level](pose_feat))
            out.pose_feats.append(
                self.out_pose[level](pose_feat) if hasattr(self, 'out_pose') else pose_feat)
        return out
