"""RTMO's Dynamic Coordinate Classifier (DCC): pose vectors -> 1-D heatmaps over box bins.

Attribute names follow MMPose 1.3's RTMO so that released checkpoints load with
``strict=True``.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import torch
import torch.nn.functional as F
from mmcv.cnn import Scale
from mmengine.model import BaseModule
from mmpose.models.utils import GAUEncoder, SinePositionalEncoding
from torch import Tensor, nn

from ..codecs.box_simcc import BoxSimCCLabel, expectation_decode


class PoseBatchNorm1d(nn.BatchNorm1d):
    """BatchNorm1d that normalises a lone training sample with the running statistics.

    A batch can have a single positive detection; batch statistics of one
    sample are undefined (``nn.BatchNorm1d`` raises).
    """

    def forward(self, x: Tensor) -> Tensor:
        if self.training and x.size(0) <= 1:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                training=False, eps=self.eps)
        return super().forward(x)


class DCCOutput(NamedTuple):
    keypoints: Tensor   # [N, K, 2]
    probs_x: Tensor     # [N, K, Nx], softmax over bins
    probs_y: Tensor     # [N, K, Ny]
    sigmas: Tensor      # [N, K] learned relative deviations (empty in eval mode)
    x_bins: Tensor      # [N, Nx] bin positions across each padded box
    y_bins: Tensor      # [N, Ny]


class DynamicCoordinateClassifier(BaseModule):
    """Pose vectors -> dual 1-D heatmaps over bins laid across each box.

    Keypoint features (a linear map of the pose vector, refined by a gated
    attention unit across keypoints) are scored against the sine encodings of
    the bin positions, which move with each box; the codec owns the bins.

    Args:
        codec: the box-bin codec (number of bins, box padding).
        in_channels: pose vector channels.
        num_keypoints: K.
        feat_channels: keypoint feature channels.
        spe_channels / spe_temperature: sine positional encoding of bin positions.
        gau_cfg: ``GAUEncoder`` config, or None for no attention.
    """

    def __init__(self,
                 codec: BoxSimCCLabel,
                 in_channels: int,
                 num_keypoints: int,
                 feat_channels: int = 128,
                 spe_channels: int = 128,
                 spe_temperature: float = 300.0,
                 gau_cfg: Optional[dict] = dict(
                     s=128, expansion_factor=2, dropout_rate=0.0, drop_path=0.0,
                     act_fn='SiLU', pos_enc='add')) -> None:
        super().__init__()
        self.codec = codec
        self.num_keypoints = num_keypoints
        self.feat_channels = feat_channels
        self.spe = SinePositionalEncoding(out_channels=spe_channels, temperature=spe_temperature)
        if gau_cfg is not None:
            gau_cfg = dict(gau_cfg, in_token_dims=feat_channels, out_token_dims=feat_channels)
            self.gau = GAUEncoder(**gau_cfg)
            if gau_cfg.get('pos_enc', 'none') in ('add', 'rope'):
                self.pos_enc = nn.Parameter(torch.randn(num_keypoints, gau_cfg['s']))
        self.pose_to_kpts = nn.Sequential(
            nn.Linear(in_channels, feat_channels * num_keypoints),
            PoseBatchNorm1d(feat_channels * num_keypoints))
        self.x_fc = nn.Linear(spe_channels, feat_channels)
        self.y_fc = nn.Linear(spe_channels, feat_channels)
        self.sigma_fc = nn.Sequential(
            nn.Linear(in_channels, num_keypoints), nn.Sigmoid(), Scale(0.1))
        # Kept as buffers only for checkpoint compatibility with MMPose.
        x_offsets, y_offsets = codec.offsets()
        self.register_buffer('y_bins', y_offsets)
        self.register_buffer('x_bins', x_offsets)

    def init_weights(self) -> None:
        """Start the keypoint attention as an identity map.

        With MMPose's initialisation (``pos_enc ~ N(0, 1)``, full-scale GAU
        output) the attention kernel ``relu(qk / sqrt(s))^2`` is ~1e2 per keypoint
        pair, the bin logits are in the thousands and the softmax saturates: the
        DCC then barely learns from scratch and its keypoints stay near wrong bins
        while the learned deviations widen. Small position encodings and a zero
        output projection let it learn like a plain linear classifier first. Only
        the initial values differ; checkpoints are unaffected.
        """
        super().init_weights()
        # Near-uniform bin distributions at the start: with default-scale weights the
        # high-frequency sine channels make every initial softmax a random comb, and
        # with a learned trunk in front the DCC then drifts away instead of converging.
        for fc in (self.x_fc, self.y_fc):
            nn.init.normal_(fc.weight, std=0.01)
        if hasattr(self, 'gau'):
            nn.init.zeros_(self.gau.o.weight)
            if hasattr(self, 'pos_enc'):
                nn.init.normal_(self.pos_enc, std=0.02)

    def keypoint_features(self, pose_vecs: Tensor) -> Tensor:
        """``[N, C_in]`` pose vectors -> ``[N, K, C]`` keypoint features."""
        kpt_feats = self.pose_to_kpts(pose_vecs).view(-1, self.num_keypoints, self.feat_channels)
        if hasattr(self, 'gau'):
            kpt_feats = self.gau(kpt_feats, pos_enc=getattr(self, 'pos_enc', None))
        return kpt_feats

    def bin_logits(self, kpt_feats: Tensor, bins: Tensor, fc: nn.Linear) -> Tensor:
        """``[N, K, C]`` keypoint features x ``[N, B]`` bin positions -> ``[N, K, B]`` logits.

        The logits are ``kpt_feats @ fc(spe(bins))^T``. Multiplying the keypoint
        features by ``fc``'s weight first gives the same values with ``K`` rows per
        detection instead of ``B`` (17 vs 192-256), about 7x fewer multiply-adds
        in the DCC's largest product.
        """
        bin_codes = self.spe(position=bins)                       # [N, B, S]
        return (torch.bmm(kpt_feats @ fc.weight, bin_codes.transpose(1, 2))
                + (kpt_feats @ fc.bias).unsqueeze(-1))

    def forward(self, pose_vecs: Tensor, bboxes: Tensor, priors: Tensor) -> DCCOutput:
        """Args:
            pose_vecs: ``[N, C_in]`` pose vectors of N detections.
            bboxes: ``[N, 4]`` their xyxy boxes (input pixels).
            priors: ``[N, 2]`` their grid-cell centres; bin positions are
                encoded relative to them.
        """
        kpt_feats = self.keypoint_features(pose_vecs)
        # relative bins are laid from the relative centre (not absolute bins minus the
        # prior) to round exactly as MMPose does; released checkpoints then reproduce it
        probs_x, probs_y = (
            self.bin_logits(kpt_feats, bins, fc).softmax(-1)
            for bins, fc in zip(self.codec.bins_for_boxes(bboxes, priors), (self.x_fc, self.y_fc)))
        x_bins, y_bins = self.codec.bins_for_boxes(bboxes)
        keypoints = expectation_decode(probs_x, probs_y, x_bins, y_bins)
        sigmas = self.sigma_fc(pose_vecs) if self.training else pose_vecs.new_zeros(0)
        return DCCOutput(keypoints, probs_x, probs_y, sigmas, x_bins, y_bins)
