"""``RTMW3DSimCCHead``: RTMW's head (MMPose's ``RTMWHead``: two-level fusion, the GAU-based
Hierarchical Encoding Module, x/y classifiers) plus a z classifier over metric depth bins.

Losses: KL divergence per axis (MMPose's ``KLDiscretLoss`` by import) weighted by
``axis_weights`` (x, y, z), and an optional bone-length loss on *expectation* coordinates
(softmax-weighted bin positions), which is differentiable, unlike a loss on arg-max bins.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData
from mmpose.models.heads import RTMWHead
from mmpose.registry import MODELS
from mmpose.utils.tensor_utils import to_numpy
from mmpose.utils.typing import ConfigType, InstanceList, OptConfigType, OptSampleList
from torch import Tensor, nn


@dataclass
class Targets3D:
    """A batch's labels: ``labels`` x/y/z ``[B, K, N*]``, ``weights`` (x/y) and
    ``z_weights`` ``[B, K]``."""
    labels: Tuple[Tensor, Tensor, Tensor]
    weights: Tensor
    z_weights: Tensor

    @classmethod
    def from_samples(cls, batch_data_samples) -> Targets3D:
        def cat(key):
            return torch.cat([d.gt_instance_labels[key] for d in batch_data_samples])
        return cls((cat('keypoint_x_labels'), cat('keypoint_y_labels'),
                    cat('keypoint_z_labels')),
                   cat('keypoint_weights'), cat('keypoint_z_weights'))


def expected_bins(logits: Tensor, beta: float = 1.0) -> Tensor:
    """Soft-argmax: ``[B, K, N]`` logits -> expected bin index ``[B, K]`` (differentiable)."""
    index = torch.arange(logits.shape[-1], device=logits.device, dtype=logits.dtype)
    return ((logits * beta).softmax(-1) * index).sum(-1)


def label_bins(labels: Tensor) -> Tensor:
    """Bin index that 1-D target labels ``[B, K, N]`` centre on ``[B, K]``."""
    index = torch.arange(labels.shape[-1], device=labels.device, dtype=labels.dtype)
    return (labels * index).sum(-1) / labels.sum(-1).clamp(min=1e-12)


@MODELS.register_module()
class SoftBoneLengthLoss(nn.Module):
    """L1 between predicted and target bone lengths, in bin units on each axis, averaged
    over the bones whose two keypoints are labelled (a keypoint that is its own parent has
    no bone and does not count, as in MMPose's ``BoneLoss``).

    Args:
        joint_parents: parent keypoint of each keypoint (a root is its own parent).
        beta: logit scale of the soft-argmax (as ``KLDiscretLoss``'s ``beta``).
        loss_weight: multiplier of the loss.
    """

    def __init__(self, joint_parents: Sequence[int], beta: float = 10.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.register_buffer('parents', torch.as_tensor(list(joint_parents)), persistent=False)
        self.beta, self.loss_weight = beta, loss_weight

    def forward(self, logits: Sequence[Tensor], labels: Sequence[Tensor],
                weights: Tensor) -> Tensor:
        """``logits``/``labels``: x, y, z ``[B, K, N*]``; ``weights [B, K]``."""
        if len(self.parents) != weights.shape[1]:
            raise ValueError(f'SoftBoneLengthLoss: joint_parents has {len(self.parents)} '
                             f'entries for {weights.shape[1]} keypoints; give one per keypoint')
        pred = torch.stack([expected_bins(p, self.beta) for p in logits], -1)
        target = torch.stack([label_bins(t) for t in labels], -1)
        pred_len = (pred - pred[:, self.parents]).norm(dim=-1)
        target_len = (target - target[:, self.parents]).norm(dim=-1)
        is_bone = self.parents != torch.arange(len(self.parents), device=weights.device)
        weight = weights * weights[:, self.parents] * is_bone
        loss = ((pred_len - target_len).abs() * weight).sum() / weight.sum().clamp(min=1)
        return loss * self.loss_weight


@MODELS.register_module()
class RTMW3DSimCCHead(RTMWHead):
    """RTMW head with a z classifier; decodes with :class:`BoxSimCC3DLabel`.

    Args:
        num_depth_bins: z bins; None takes the decoder's (``BoxSimCC3DLabel.num_bins[2]``,
            where the z layout is defined); given, it must equal the decoder's.
        axis_weights: weights of the x, y and z KL losses.
        loss_bone: optional :class:`SoftBoneLengthLoss` config (None: off).
        z_from_appearance: also feed the z classifier the fused lower-level features (the
            neck's finer level plus the upsampled coarser one) pooled at each keypoint's
            predicted position (the outer product of its x and y distributions, no gradient
            into them), projected and added to the keypoint's token. The tokens alone
            (RTMW3D's head, the default) carry one spatial map per keypoint, which holds
            where a keypoint is more readily than what it looks like there (shade, width,
            occlusion: the depth cues).
        Others: as MMPose's ``RTMWHead`` (``in_channels`` of the top level, the lower
        level has half; ``input_size`` is ``(w, h)``).

    Shapes: ``forward(feats)`` takes the neck's two levels ``[B, C/2, 2h, 2w]`` and
    ``[B, C, h, w]`` and returns x ``[B, K, Nx]``, y ``[B, K, Ny]``, z ``[B, K, Nz]`` logits.
    """

    def __init__(self, num_depth_bins: Optional[int] = None,
                 axis_weights: Sequence[float] = (1.0, 1.0, 1.0),
                 loss: ConfigType = dict(type='KLDiscretLoss', use_target_weight=True,
                                         beta=10.0, label_softmax=True),
                 loss_bone: OptConfigType = None, z_from_appearance: bool = False,
                 **kwargs) -> None:
        super().__init__(loss=loss, **kwargs)
        if len(axis_weights) != 3:
            raise ValueError(f'RTMW3DSimCCHead: axis_weights={axis_weights!r}, expected '
                             '(x, y, z) weights')
        self.axis_weights = tuple(float(w) for w in axis_weights)
        decoder_bins = getattr(self.decoder, 'num_bins', None)
        if num_depth_bins is None:
            if decoder_bins is None or len(decoder_bins) != 3:
                raise ValueError('RTMW3DSimCCHead: num_depth_bins=None needs a 3-axis decoder '
                                 "(model.head.decoder=dict(type='BoxSimCC3DLabel', ...)); "
                                 'set one or give num_depth_bins')
            num_depth_bins = int(decoder_bins[2])
        self.cls_z = nn.Linear(self.cls_x.in_features, num_depth_bins, bias=False)
        self.z_appearance = None
        if z_from_appearance:
            self.z_appearance = nn.Sequential(
                nn.Linear(self.final_layer2.in_channels, self.cls_x.in_features), nn.SiLU())
        self.loss_bone = None if loss_bone is None else MODELS.build(loss_bone)
        expected = (self.cls_x.out_features, self.cls_y.out_features, num_depth_bins)
        if decoder_bins is not None and tuple(decoder_bins) != expected:
            raise ValueError(f'RTMW3DSimCCHead: the decoder has num_bins={decoder_bins} but '
                             f'the head has {expected}; leave model.head.num_depth_bins unset (it '
                             'follows the codec) and give the head the codec\'s '
                             'input_size/simcc_split_ratio')

    @property
    def num_keypoints(self) -> int:
        """K (the plugin's ``KeypointFinetuneHook`` reads it)."""
        return self.out_channels

    def encode(self, feats: Tuple[Tensor, Tensor]) -> Tuple[Tensor, Tensor]:
        """RTMW's fusion and HEM (its modules): keypoint tokens ``[B, K, hidden_dims]`` and
        the fused lower level ``[B, C, 2h, 2w]``."""
        enc_b, enc_t = feats
        tokens_t = self.mlp(torch.flatten(self.final_layer(enc_t), 2))
        enc_b = torch.cat([self.conv_dec(self.ps(enc_t)), enc_b], dim=1)
        tokens_b = self.mlp2(torch.flatten(self.final_layer2(enc_b), 2))
        return self.gau(torch.cat([tokens_t, tokens_b], dim=2)), enc_b

    def forward(self, feats: Tuple[Tensor, Tensor]) -> Tuple[Tensor, Tensor, Tensor]:
        tokens, fused = self.encode(feats)
        pred_x, pred_y = self.cls_x(tokens), self.cls_y(tokens)
        if self.z_appearance is not None:
            tokens = tokens + self.z_appearance(self.pool_at_keypoints(fused, pred_x, pred_y))
        return pred_x, pred_y, self.cls_z(tokens)

    def pool_at_keypoints(self, fused: Tensor, pred_x: Tensor, pred_y: Tensor) -> Tensor:
        """``[B, C, h, w]`` features averaged under each keypoint's predicted position
        (``softmax(beta * logits)`` per axis, summed into the feature grid's cells; no
        gradient) -> ``[B, K, C]``."""
        beta = getattr(self.loss_module, 'beta', 1.0)
        height, width = fused.shape[-2:]
        with torch.no_grad():
            cells_x = F.adaptive_avg_pool1d((pred_x * beta).softmax(-1), width)
            cells_y = F.adaptive_avg_pool1d((pred_y * beta).softmax(-1), height)
            weights = cells_y.unsqueeze(-1) * cells_x.unsqueeze(-2)  # [B, K, h, w]
            weights = weights / weights.sum((-2, -1), keepdim=True).clamp(min=1e-12)
        return torch.einsum('bkhw,bchw->bkc', weights, fused)

    def predict(self, feats, batch_data_samples: OptSampleList,
                test_cfg: OptConfigType = {}) -> InstanceList:
        """Instances with ``keypoints [1, K, 3]`` (x, y input pixels; z metres relative to
        the root) and ``keypoint_scores [1, K]``."""
        if test_cfg.get('flip_test', False):
            raise ValueError('RTMW3DSimCCHead: flip_test is not supported; set '
                             'model.test_cfg.flip_test=False')
        pred_x, pred_y, pred_z = self.forward(feats)
        keypoints, scores = self.decoder.decode(to_numpy(pred_x), to_numpy(pred_y),
                                                to_numpy(pred_z))
        return [InstanceData(keypoints=k[None], keypoint_scores=s[None])
                for k, s in zip(keypoints, scores)]

    def loss(self, feats, batch_data_samples: OptSampleList,
             train_cfg: OptConfigType = {}) -> dict:
        preds = self.forward(feats)
        targets = Targets3D.from_samples(batch_data_samples)
        weights = (targets.weights, targets.weights, targets.z_weights)
        losses = {}
        for axis, pred, label, weight, factor in zip('xyz', preds, targets.labels, weights,
                                                     self.axis_weights):
            losses[f'loss_{axis}'] = self.loss_module((pred,), (label,), weight) * factor
        if self.loss_bone is not None:
            losses['loss_bone'] = self.loss_bone(preds, targets.labels,
                                                 targets.weights * targets.z_weights)
        return losses
