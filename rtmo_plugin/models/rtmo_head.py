"""RTMO head (Lu et al., CVPR 2024): YOLO-style one-stage pose estimation with a DCC."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmdet.utils import reduce_mean
from mmengine.model import BaseModule
from mmengine.structures import InstanceData
from mmpose.evaluation.functional import nms_torch
from mmpose.models.utils import filter_scores_and_topk
from mmpose.registry import KEYPOINT_CODECS, MODELS, TASK_UTILS
from torch import Tensor

from ..codecs.box_simcc import laplace_labels, xyxy_to_center_scale
from ..metainfo import head_keypoint_setup
from .assignment import Targets, assign_batch
from .branches import HeadOutputs, RTMOBranches
from .dcc import DynamicCoordinateClassifier
from .decoding import decode_boxes, decode_keypoints, flatten_levels

_DEFAULT_CODEC = dict(type='BoxSimCCLabel', num_bins=(192, 256), kernel='laplace',
                      decode_mode='expectation', box_padding=1.25)


def _keypoint_subset(indices: Optional[Sequence[int]], num_keypoints: int
                     ) -> Optional[Tuple[int, ...]]:
    """``model.head.assign_keypoints`` checked: distinct indices in ``[0, num_keypoints)``."""
    if indices is None:
        return None
    subset = tuple(int(i) for i in indices)
    if not subset or len(set(subset)) != len(subset) or not all(
            0 <= i < num_keypoints for i in subset):
        raise ValueError(f'model.head.assign_keypoints={list(indices)} must be distinct '
                         f'keypoint indices in [0, {num_keypoints}) (e.g. list(range(17)) '
                         'for the body of COCO-WholeBody), or None for all keypoints')
    return subset


@MODELS.register_module()
class RTMOPoseHead(BaseModule):
    """RTMO's one-stage pose head.

    Every grid cell of every level predicts a person score, a box, regressed
    keypoints (training only: the proxy for SimOTA's OKS cost), keypoint
    visibilities and a pose vector that the DCC turns into keypoints. The
    state-dict layout matches MMPose 1.3's ``RTMOHead``.

    Args:
        num_keypoints: K, the dataset's keypoint count; leave it out when
            ``metainfo`` is given (it is read from there).
        metainfo: the dataset metainfo file (or ``dict(from_file=...)``): the
            keypoint count and the OKS sigmas of the assigner and the OKS loss.
        head_module_cfg: kwargs of :class:`RTMOBranches` (channels, widths, norms).
        featmap_strides: strides of the input levels.
        codec: :class:`BoxSimCCLabel` config: number of bins and box padding.
        dcc_cfg: kwargs of :class:`DynamicCoordinateClassifier`.
        assigner / prior_generator: MMPose ``SimOTAAssigner`` / ``MlvlPointGenerator``.
        assign_keypoints: indices of the keypoints whose OKS the assigner uses (its cost,
            the number of positives per person, the first stage's score targets); None: all.
            Whole-body models assign by the 17 body points: over all 133, the small OKS
            sigmas of the face and hands keep every early OKS near 0, so SimOTA gives each
            person a single positive for most of a short schedule.
        proxy_target_cc: second stage, use DCC keypoints as targets of the
            regression branch and OKS(DCC, GT) as classification targets.
        use_aux_loss: add the L1 loss on raw box deltas (last epochs).
        overlaps_power: classification targets are ``overlap ** power``.
        loss_cls / loss_bbox / loss_oks / loss_vis / loss_mle / loss_bbox_aux:
            loss configs (VariFocal, IoU, OKS, BCE, MLE, L1).
    """

    def __init__(self,
                 num_keypoints: Optional[int] = None,
                 head_module_cfg: Optional[dict] = None,
                 featmap_strides: Sequence[int] = (16, 32),
                 num_classes: int = 1,
                 codec: dict = _DEFAULT_CODEC,
                 dcc_cfg: Optional[dict] = None,
                 assigner: Optional[dict] = None,
                 prior_generator: Optional[dict] = None,
                 proxy_target_cc: bool = False,
                 use_aux_loss: bool = False,
                 overlaps_power: float = 1.0,
                 loss_cls: Optional[dict] = None,
                 loss_bbox: Optional[dict] = None,
                 loss_oks: Optional[dict] = None,
                 loss_vis: Optional[dict] = None,
                 loss_mle: Optional[dict] = None,
                 loss_bbox_aux: Optional[dict] = None,
                 metainfo: Optional[dict | str] = None,
                 assign_keypoints: Optional[Sequence[int]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if head_module_cfg is None:
            raise ValueError('RTMOPoseHead needs head_module_cfg (channels, widths, norms)')
        num_keypoints, assigner, loss_oks = head_keypoint_setup(
            num_keypoints, metainfo, assigner, loss_oks)
        if num_classes != 1:
            raise ValueError(
                f'RTMOPoseHead detects one class (people), got num_classes={num_classes}')
        for key in ('num_keypoints', 'featmap_strides', 'num_classes'):
            if key in head_module_cfg:
                raise ValueError(f'RTMOPoseHead: set `{key}` on the head, not in head_module_cfg')
        dcc_cfg = dict(dcc_cfg or {})
        derived = dict(num_bins='codec.num_bins', num_keypoints='num_keypoints',
                       in_channels='head_module_cfg.pose_vec_channels')
        for key, where in derived.items():
            if key in dcc_cfg:
                raise ValueError(f'RTMOPoseHead: dcc_cfg.{key} comes from `{where}`; remove it '
                                 'from dcc_cfg (MMPose configs set it there)')
        self.num_keypoints = num_keypoints
        self.assign_keypoints = _keypoint_subset(assign_keypoints, num_keypoints)
        self.proxy_target_cc = proxy_target_cc
        self.use_aux_loss = use_aux_loss
        self.overlaps_power = overlaps_power

        self.codec = KEYPOINT_CODECS.build(codec)
        self.prior_generator = TASK_UTILS.build(prior_generator or dict(
            type='MlvlPointGenerator', centralize_points=True, strides=list(featmap_strides)))
        if list(self.prior_generator.strides) != [(s, s) for s in featmap_strides]:
            raise ValueError(f'RTMOPoseHead: prior_generator.strides={self.prior_generator.strides}'
                             f' differ from featmap_strides={list(featmap_strides)}')
        self.assigner = TASK_UTILS.build(assigner) if assigner is not None else None
        self.head_module = RTMOBranches(num_keypoints=num_keypoints,
                                        featmap_strides=featmap_strides, **head_module_cfg)
        self.dcc = DynamicCoordinateClassifier(
            self.codec, in_channels=self.head_module.pose_vec_channels,
            num_keypoints=num_keypoints, **dcc_cfg)
        for name, cfg in dict(loss_cls=loss_cls, loss_bbox=loss_bbox, loss_oks=loss_oks,
                              loss_vis=loss_vis, loss_mle=loss_mle,
                              loss_bbox_aux=loss_bbox_aux).items():
            if cfg is not None:
                setattr(self, name, MODELS.build(cfg))

    @property
    def test_cfg(self) -> dict:
        """``model.test_cfg``, which the pose estimator assigns right after building the head:
        ``nms_thr`` is checked here, at build time, not at the first validation."""
        return self.__dict__.get('_test_cfg', {})

    @test_cfg.setter
    def test_cfg(self, cfg: dict) -> None:
        nms_thr = (cfg or {}).get('nms_thr', 1.0)
        if not isinstance(nms_thr, (int, float)) or not 0 < nms_thr <= 1:
            raise ValueError(f'model.test_cfg.nms_thr={nms_thr!r} must be a number in (0, 1] '
                             '(1.0 turns NMS off; RTMO uses 0.65)')
        self._test_cfg = cfg

    def _check_training_parts(self) -> None:
        """Training needs the assigner and the losses; inference does not."""
        needed = ['assigner', 'loss_cls', 'loss_bbox', 'loss_oks', 'loss_vis']
        if self.use_aux_loss:  # YOLOXPoseModeSwitchHook turns it on for the last epochs
            needed.append('loss_bbox_aux')
        missing = [name for name in needed if getattr(self, name, None) is None]
        if missing:
            raise ValueError(f'RTMOPoseHead cannot compute losses without {missing}: add them '
                             'to the head config (see configs/_base_/rtmo_coco-640x640.py)')

    # shared -------------------------------------------------------------------

    def forward(self, feats: Sequence[Tensor]) -> HeadOutputs:
        return self.head_module(feats)

    def _priors(self, outputs: HeadOutputs) -> Tensor:
        """``[P, 4]`` priors (x, y, stride_x, stride_y) of all levels."""
        sizes = [score.shape[2:] for score in outputs.cls_scores]
        ref = outputs.cls_scores[0]
        return torch.cat(self.prior_generator.grid_priors(
            sizes, dtype=ref.dtype, device=ref.device, with_stride=True))

    # training -----------------------------------------------------------------

    def loss(self, feats: Sequence[Tensor], batch_data_samples: list,
             train_cfg: dict = {}) -> Dict[str, Tensor]:
        """Losses of a batch; ``feats`` are the neck's levels ``[B, C, H_l, W_l]``.

        Always in fp32, also under autocast (``tools/train.py --amp``): in bf16, boxes decoded
        at 640 pixels move in 2-4 px steps and the loss terms lose 2-3 significant digits.
        """
        with torch.autocast(feats[0].device.type, enabled=False):
            return self._loss([feat.float() for feat in feats], batch_data_samples)

    def _loss(self, feats: Sequence[Tensor], batch_data_samples: list) -> Dict[str, Tensor]:
        self._check_training_parts()
        outputs = self.forward(feats)
        priors = self._priors(outputs)
        cls_scores = flatten_levels(outputs.cls_scores)         # [B, P, 1]
        bbox_deltas = flatten_levels(outputs.bbox_preds)        # [B, P, 4]
        kpt_vis = flatten_levels(outputs.kpt_vis)               # [B, P, K]
        pose_vecs = flatten_levels(outputs.pose_feats)          # [B, P, C]
        bboxes = decode_boxes(bbox_deltas, priors)              # [B, P, 4]
        kpt_reg = decode_keypoints(flatten_levels(outputs.kpt_offsets), priors)  # [B, P, K, 2]

        targets = assign_batch(self.assigner, priors, cls_scores.detach().sigmoid(),
                               bboxes.detach(), kpt_reg.detach(), kpt_vis.detach().sigmoid(),
                               batch_data_samples, self.assign_keypoints)
        # whole-body datasets give integer visibilities; the losses need floats
        targets.keypoints_visible = targets.keypoints_visible.to(cls_scores.dtype)
        # mean number of positives over processes, as a tensor even when it is 0
        normalizer = reduce_mean(cls_scores.new_tensor(float(targets.num_pos))).clamp(min=1.0)

        losses: Dict[str, Tensor] = {}
        obj_targets = targets.obj_targets
        if targets.num_pos > 0:
            pos = targets.pos_mask
            pos_bboxes = bboxes.flatten(0, 1)[pos]
            losses['loss_bbox'] = self.loss_bbox(pos_bboxes, targets.bboxes) / normalizer
            if self.use_aux_loss:
                losses['loss_bbox_aux'] = self.loss_bbox_aux(
                    bbox_deltas.flatten(0, 1)[pos], self._aux_box_targets(targets)) / normalizer
            losses['loss_vis'] = self.loss_vis(kpt_vis.flatten(0, 1)[pos],
                                               targets.keypoints_visible,
                                               targets.keypoints_visible_weights)
            overlaps = self._keypoint_losses(losses, kpt_reg.flatten(0, 1)[pos],
                                             pose_vecs.flatten(0, 1)[pos], pos_bboxes, targets)
            losses['overlaps'] = overlaps
            obj_targets = obj_targets.clone()
            obj_targets[pos] = overlaps.pow(self.overlaps_power).detach().to(obj_targets)

        losses['loss_cls'] = self.loss_cls(cls_scores.flatten(0, 1), obj_targets,
                                           targets.obj_weights) / normalizer
        losses['num_samples'] = normalizer
        return losses

    def _keypoint_losses(self, losses: Dict[str, Tensor], kpt_reg: Tensor, pose_vecs: Tensor,
                         bboxes: Tensor, targets: Targets) -> Tensor:
        """Adds the MLE (DCC) and OKS (regression) losses of the ``M`` positives.

        Returns the ``[M, 1]`` classification targets: the assignment overlaps,
        or in the second stage (``proxy_target_cc``) the OKS of the DCC keypoints.
        """
        gt_kpts, gt_vis, areas = targets.keypoints, targets.keypoints_visible, targets.areas
        use_mle = hasattr(self, 'loss_mle') and self.loss_mle.loss_weight > 0
        if use_mle or self.proxy_target_cc:
            dcc = self.dcc(pose_vecs, bboxes, targets.priors[:, :2])
        if use_mle:
            labels = laplace_labels(gt_kpts, dcc.x_bins, dcc.y_bins, dcc.sigmas, areas)
            losses['loss_mle'] = self.loss_mle((dcc.probs_x, dcc.probs_y), labels, gt_vis)
        if not self.proxy_target_cc:
            losses['loss_oks'] = self.loss_oks(kpt_reg, gt_kpts, gt_vis, areas)
            return targets.overlaps

        with torch.no_grad():
            # regress towards the DCC keypoints where they beat the regression
            cc_better = (dcc.keypoints - gt_kpts).norm(dim=-1) < (kpt_reg - gt_kpts).norm(dim=-1)
            weights = gt_vis * cc_better.to(gt_vis)
            overlaps = self.assigner.oks_calculator(dcc.keypoints, gt_kpts, gt_vis, areas)
        losses['loss_oks'] = self.loss_oks(kpt_reg, dcc.keypoints.detach(), weights, areas)
        return overlaps.unsqueeze(1)

    @staticmethod
    def _aux_box_targets(targets: Targets) -> Tensor:
        """GT boxes as raw deltas of the positives' priors, ``[M, 4]``."""
        centers, sizes = xyxy_to_center_scale(targets.bboxes, padding=1.0)
        strides = targets.priors[:, 2:]
        return torch.cat(((centers - targets.priors[:, :2]) / strides,
                          torch.log(sizes / strides + 1e-8)), dim=-1)

    # inference ----------------------------------------------------------------

    @torch.no_grad()
    def predict(self, feats: Sequence[Tensor], batch_data_samples: list,
                test_cfg: dict = {}) -> List[InstanceData]:
        """People in each image, in input pixels (the estimator maps them back).

        ``test_cfg``: ``score_thr`` (0.01), ``nms_pre`` (100000), ``nms_thr``
        (1.0 = no NMS; any value in (0, 1]).
        """
        nms_thr = test_cfg.get('nms_thr', 1.0)
        if not 0 < nms_thr <= 1:
            raise ValueError(f'RTMOPoseHead: test_cfg.nms_thr={nms_thr} must be in (0, 1]')
        outputs = self.forward(feats)
        priors = self._priors(outputs)
        scores = flatten_levels(outputs.cls_scores).sigmoid()
        bboxes = decode_boxes(flatten_levels(outputs.bbox_preds), priors)
        kpt_vis = flatten_levels(outputs.kpt_vis).sigmoid()
        pose_vecs = flatten_levels(outputs.pose_feats)
        return [
            self._predict_image(*per_image, priors, sample.metainfo['input_size'], test_cfg,
                                nms_thr)
            for *per_image, sample in zip(scores, bboxes, kpt_vis, pose_vecs, batch_data_samples)]

    def _predict_image(self, scores: Tensor, bboxes: Tensor, kpt_vis: Tensor, pose_vecs: Tensor,
                       priors: Tensor, input_size, test_cfg: dict,
                       nms_thr: float) -> InstanceData:
        scores, _, keep, _ = filter_scores_and_topk(
            scores, test_cfg.get('score_thr', 0.01), test_cfg.get('nms_pre', 100000))
        if nms_thr < 1.0 and keep.numel() > 0:
            keep_nms = nms_torch(bboxes[keep], scores, nms_thr)
            keep, scores = keep[keep_nms], scores[keep_nms]
        bboxes = bboxes[keep]
        if keep.numel() > 0:
            keypoints = self.dcc(pose_vecs[keep], bboxes, priors[keep, :2]).keypoints
        else:
            keypoints = bboxes.new_zeros(0, self.num_keypoints, 2)
        width, height = input_size
        bboxes[:, 0::2] = bboxes[:, 0::2].clamp(0, width)
        bboxes[:, 1::2] = bboxes[:, 1::2].clamp(0, height)
        return InstanceData(
            scores=scores, labels=torch.zeros_like(keep), bboxes=bboxes, bbox_scores=scores,
            keypoints=keypoints, keypoint_scores=kpt_vis[keep],
            keypoints_visible=kpt_vis[keep]).numpy()
