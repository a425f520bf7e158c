"""The Global Context Module of Li et al., "Towards High Performance One-Stage Human Pose
Estimation" (arXiv:2301.04842): self-attention over all positions of a RoI's features.

The layout follows the authors' released code (the paper's text reached states only the
module's purpose, a larger receptive field); the output projection is this project's.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn


@MODELS.register_module()
class GlobalContextModule(BaseModule):
    """Two pre-activation residual units on ``[N, C, S, S]`` RoI features:

    1. BN-ReLU, multi-head self-attention over the ``S * S`` positions with 2-D relative
       position embeddings (a query's logit for a key adds ``q . (R_row[dy] + R_col[dx])``,
       one learnt vector per row and per column offset), a 1x1 output projection (not in
       the authors' code, which concatenates the heads' outputs), residual;
    2. BN-ReLU-conv3x3, residual.

    Every output position sees every input position (the point of the module: a 3x3 conv
    stack sees only its receptive field).

    Args:
        in_channels: C, divisible by ``num_heads``.
        num_heads: attention heads.
        roi_size: S, the side of the RoI features (the keypoint RoI extractor's
            ``roi_layer.output_size``): the position tables hold ``2S - 1`` offsets.
        norm_cfg: the normalisation before each unit.
    """

    def __init__(self, in_channels: int, num_heads: int = 4, roi_size: int = 14,
                 norm_cfg: dict = dict(type='BN'), init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if in_channels % num_heads:
            raise ValueError(f'GlobalContextModule: in_channels={in_channels} is not '
                             f'divisible by num_heads={num_heads}')
        self.num_heads, self.roi_size = num_heads, roi_size
        head_dim = in_channels // num_heads
        self.attn_norm = build_norm_layer(norm_cfg, in_channels)[1]
        self.qkv = nn.Conv2d(in_channels, 3 * in_channels, 1, bias=False)
        self.proj = nn.Conv2d(in_channels, in_channels, 1)
        self.rel_rows = nn.Parameter(torch.randn(2 * roi_size - 1, head_dim) * head_dim**-0.5)
        self.rel_cols = nn.Parameter(torch.randn(2 * roi_size - 1, head_dim) * head_dim**-0.5)
        self.conv_norm = build_norm_layer(norm_cfg, in_channels)[1]
        self.conv = nn.Conv2d(in_channels, in_channels, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        """``[N, C, S, S]`` -> ``[N, C, S, S]``."""
        if x.shape[-2:] != (self.roi_size, self.roi_size):
            raise ValueError(
                f'GlobalContextModule was built for {self.roi_size}x{self.roi_size} RoI '
                f'features, got {tuple(x.shape[-2:])}: set its roi_size to the keypoint RoI '
                'extractor\'s roi_layer.output_size')
        x = x + self.attention(F.relu(self.attn_norm(x)))
        return x + self.conv(F.relu(self.conv_norm(x)))

    def attention(self, x: Tensor) -> Tensor:
        num, channels, height, width = x.shape
        head_dim = channels // self.num_heads
        q, k, v = self.qkv(x).reshape(num, 3, self.num_heads, head_dim, height * width).unbind(1)
        q = q * head_dim**-0.5
        logits = q.transpose(-1, -2) @ k                      # [N, heads, S*S, S*S]
        logits = logits + self.relative_logits(q.reshape(num, self.num_heads, head_dim,
                                                         height, width))
        out = v @ logits.softmax(-1).transpose(-1, -2)          # [N, heads, d, S*S]
        return self.proj(out.reshape(num, channels, height, width))

    def relative_logits(self, q: Tensor) -> Tensor:
        """``q . (R_row[k_row - q_row] + R_col[k_col - q_col])`` for every query/key pair.

        Args:
            q: ``[N, heads, d, S, S]`` queries.

        Returns:
            ``[N, heads, S*S, S*S]``.
        """
        num, heads, _, size, _ = q.shape
        offsets = torch.arange(size, device=q.device)
        index = offsets[None, :] - offsets[:, None] + size - 1   # [query, key] -> table row
        by_row = torch.einsum('nhdij,rd->nhijr', q, self.rel_rows)   # [N, h, S, S, 2S-1]
        by_col = torch.einsum('nhdij,rd->nhijr', q, self.rel_cols)
        shape = (num, heads, size, size, size)
        rows = by_row.gather(-1, index[:, None, :].expand(shape))     # [.., i, j, key row]
        cols = by_col.gather(-1, index[None, :, :].expand(shape))     # [.., i, j, key col]
        both = rows[..., :, None] + cols[..., None, :]               # [.., i, j, kr, kc]
        return both.reshape(num, heads, size * size, size * size)
