"""ONNX export of a plugin RTMO with decoding and NMS inside the graph.

The graph follows the convention of rtmlib's ``RTMO`` class (and of the RTMO
models that mmdeploy exports):

- input ``input [1, 3, H, W]`` float32: the letterboxed image in **BGR, 0-255**
  (see :mod:`rtmo_ort` for the exact letterbox). Normalisation and channel order
  of the model's data preprocessor are applied inside the graph.
- outputs ``dets [1, N, 5]`` (x1, y1, x2, y2, score in input pixels) and
  ``keypoints [1, N, K, 3]`` (x, y, visibility score), sorted by score. ``N`` is
  the number of people above ``score_thr`` after NMS; when nobody is found,
  ``N = 1`` with an all-zero row (rtmlib indexes row 0 even then).

The wrapper reuses the head's own functions (``forward``, ``decode_boxes``, the
DCC) so that the graph computes what ``RTMOPoseHead.predict`` computes.
"""
from __future__ import annotations

import copy
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn
from torchvision.ops import nms  # at import time, never during a trace: see select_people

from ..models.branches import HeadOutputs
from ..models.decoding import decode_boxes, flatten_levels

DEFAULT_OPSET = 17
INPUT_NAMES = ('input',)
OUTPUT_NAMES = ('dets', 'keypoints')


def grid_priors(feats: Sequence[Tensor], prior_generator) -> Tensor:
    """``[P, 4]`` priors (x, y, stride, stride) from the shapes of ``[B, C, H_l, W_l]`` maps.

    The values of the head's ``MlvlPointGenerator`` (its ``offset`` and
    ``centralize_points``), computed from tensor shapes inside the graph rather
    than from Python ints.
    """
    priors = []
    for feat, (stride, _) in zip(feats, prior_generator.strides):
        shift = prior_generator.offset * stride
        if prior_generator.centralize_points:
            shift += (stride - 1) / 2
        height, width = feat.shape[-2:]
        xs = torch.arange(width, device=feat.device, dtype=feat.dtype) * stride + shift
        ys = torch.arange(height, device=feat.device, dtype=feat.dtype) * stride + shift
        grid_y, grid_x = torch.meshgrid(ys, xs, indexing='ij')
        grid_x, grid_y = grid_x.reshape(-1), grid_y.reshape(-1)
        stride_col = torch.full_like(grid_x, float(stride))
        priors.append(torch.stack((grid_x, grid_y, stride_col, stride_col), dim=-1))
    return torch.cat(priors)


def select_people(bboxes: Tensor, scores: Tensor, score_thr: float,
                  nms_thr: float, nms_pre: int = 100000) -> Tuple[Tensor, Tensor]:
    """Indices of the people to keep, sorted by score, and their validity.

    Args:
        bboxes: ``[P, 4]`` xyxy boxes; scores: ``[P]``.
        score_thr / nms_thr / nms_pre: the head's ``test_cfg`` rule: candidates above
            ``score_thr``, the ``nms_pre`` best of them, then NMS at ``nms_thr``.

    Returns:
        ``indices [N]`` (int64) and ``valid [N]`` (float, 1 or 0). ``N >= 1``:
        when nothing passes ``score_thr``, one placeholder row with ``valid = 0``.

    ``nms`` is imported with this module: torchvision's first import calls one of its own
    ops (``torchvision::_cuda_version``), which ``torch.jit.trace`` cannot record
    ("unsupported output type: int") when that import happens inside the trace.
    """
    candidates = torch.nonzero(scores > score_thr).squeeze(1)
    # the nms_pre best (a slice past the end keeps all, in the graph too)
    candidates = candidates[scores[candidates].argsort(descending=True)[:nms_pre]]
    cand_boxes, cand_scores = bboxes[candidates], scores[candidates]
    if nms_thr < 1.0:  # ONNX NonMaxSuppression, the head's rule: suppress when IoU > nms_thr
        order = nms(cand_boxes, cand_scores, nms_thr)
    else:  # already in descending score order
        order = torch.arange(candidates.shape[0], device=candidates.device)
    keep = candidates[order]
    placeholder = scores.argmax().reshape(1)
    is_real = torch.cat((torch.ones_like(keep, dtype=torch.bool),
                         torch.zeros_like(placeholder, dtype=torch.bool)))
    take = is_real | ~is_real.any()  # the placeholder only when nothing is real
    indices = torch.cat((keep, placeholder))[take]
    if not torch.jit.is_tracing():  # tells torch.export that the DCC never sees 0 rows
        torch._check(indices.shape[0] >= 1)
    return indices, is_real[take].to(scores.dtype)


class RTMOExportWrapper(nn.Module):
    """``BottomupPoseEstimator`` with an RTMO head -> ``(dets, keypoints)`` tensors.

    Args:
        model: the plugin model in eval mode.
        score_thr / nms_thr: the head's ``test_cfg`` values by default.
        autocast_dtype: e.g. ``torch.bfloat16``: run the backbone, neck and head
            convs under CPU autocast (eager use only); decoding, NMS and the DCC
            stay float32 (bf16 keeps 8 bits of mantissa: 2-4 px steps at 640 px).
    """

    def __init__(self, model: nn.Module, score_thr: Optional[float] = None,
                 nms_thr: Optional[float] = None,
                 autocast_dtype: Optional[torch.dtype] = None) -> None:
        super().__init__()
        self.autocast_dtype = autocast_dtype
        test_cfg = dict(getattr(model, 'test_cfg', None) or {})
        self.model = model
        self.score_thr = float(test_cfg.get('score_thr', 0.01) if score_thr is None else score_thr)
        self.nms_thr = float(test_cfg.get('nms_thr', 1.0) if nms_thr is None else nms_thr)
        self.nms_pre = int(test_cfg.get('nms_pre', 100000))
        if not 0 <= self.score_thr <= 1:  # also refuses NaN
            raise ValueError(f'score_thr={self.score_thr} must be in [0, 1] (scores are '
                             'sigmoids: above 1 nobody is ever found)')
        if not 0 < self.nms_thr <= 1:
            raise ValueError(f'nms_thr={self.nms_thr} must be in (0, 1] (1 = no NMS)')
        if self.nms_pre < 1:
            raise ValueError(f'test_cfg.nms_pre={self.nms_pre} must be >= 1 (candidates kept '
                             'before NMS)')
        pre = model.data_preprocessor
        self.flip_channels = bool(getattr(pre, '_channel_conversion', False))
        self.normalize = bool(getattr(pre, '_enable_normalize', False)) and not (
            bool((pre.mean == 0).all()) and bool((pre.std == 1).all()))

    def normalise(self, image: Tensor) -> Tensor:
        """BGR 0-255 ``[1, 3, H, W]`` -> what the backbone was trained on."""
        pre = self.model.data_preprocessor
        if self.flip_channels:
            image = image.flip(1)
        if self.normalize:  # RTMO's configs use mean 0, std 1: no op then
            image = (image - pre.mean.view(1, -1, 1, 1)) / pre.std.view(1, -1, 1, 1)
        return image

    def raw_outputs(self, image: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """Decoded predictions of every grid cell (before thresholds and NMS).

        Returns ``scores [P]``, ``bboxes [P, 4]``, ``kpt_vis [P, K]`` (both
        sigmoided), ``pose_vecs [P, C]`` and ``priors [P, 4]`` of the first image.
        """
        head = self.model.head
        with torch.autocast('cpu', dtype=self.autocast_dtype or torch.bfloat16,
                            enabled=self.autocast_dtype is not None):
            outputs = head.forward(self.model.extract_feat(self.normalise(image)))
        if self.autocast_dtype is not None:
            outputs = HeadOutputs(*[[o.float() for o in level] for level in outputs])
        priors = grid_priors(outputs.cls_scores, head.prior_generator)
        scores = flatten_levels(outputs.cls_scores)[0, :, 0].sigmoid()
        bboxes = decode_boxes(flatten_levels(outputs.bbox_preds), priors)[0]
        kpt_vis = flatten_levels(outputs.kpt_vis)[0].sigmoid()
        pose_vecs = flatten_levels(outputs.pose_feats)[0]
        return scores, bboxes, kpt_vis, pose_vecs, priors

    def forward(self, image: Tensor) -> Tuple[Tensor, Tensor]:
        """``[1, 3, H, W]`` BGR 0-255 -> ``dets [1, N, 5]``, ``keypoints [1, N, K, 3]``."""
        scores, bboxes, kpt_vis, pose_vecs, priors = self.raw_outputs(image)
        keep, valid = select_people(bboxes, scores, self.score_thr, self.nms_thr, self.nms_pre)
        bboxes = bboxes[keep]
        keypoints = self.model.head.dcc(pose_vecs[keep], bboxes, priors[keep, :2]).keypoints
        # clamp to the input after NMS and the DCC, as the head does (the size is fixed)
        height, width = (int(s) for s in image.shape[-2:])
        upper = torch.tensor([width, height, width, height], dtype=bboxes.dtype)
        bboxes = torch.minimum(bboxes.clamp(min=0), upper.to(bboxes.device))
        dets = torch.cat((bboxes, scores[keep, None]), dim=-1) * valid[:, None]
        keypoints = torch.cat((keypoints, kpt_vis[keep, :, None]), dim=-1) * valid[:, None, None]
        return dets[None], keypoints[None]


def build_model(config: Union[str, Path], checkpoint: Optional[Union[str, Path]] = None,
                seed: int = 0) -> nn.Module:
    """Plugin model in eval mode on CPU: checkpoint weights, or seeded random ones."""
    from ..build import build_model as build
    return build(config, checkpoint, seed).eval()


def check_rtmo(model: nn.Module) -> None:
    """Raises ``ValueError`` unless ``model`` has an RTMO head (the graph holds RTMO's
    decoding, NMS and DCC: a top-down RTMPose/RTMW model has none of them)."""
    head = getattr(model, 'head', None)
    if not all(hasattr(head, name) for name in ('dcc', 'prior_generator')):
        raise ValueError(f'the model has a {type(head).__name__} head, not RTMOPoseHead: '
                         'this exporter writes RTMO graphs (one-stage, decoding and NMS '
                         'inside); give an RTMO config, e.g. configs/rtmo/...')


def input_size_of(model: nn.Module) -> Tuple[int, int]:
    """``(w, h)`` from the model's ``test_cfg.input_size``."""
    size = dict(model.test_cfg or {}).get('input_size')
    if size is None:
        raise ValueError('the config has no model.test_cfg.input_size; pass --input-size W H')
    return int(size[0]), int(size[1])


def export_onnx(model: nn.Module, output: Union[str, Path],
                input_size: Optional[Tuple[int, int]] = None,
                opset: int = DEFAULT_OPSET, score_thr: Optional[float] = None,
                nms_thr: Optional[float] = None, dynamo: bool = False) -> Path:
    """Write the ONNX graph of ``model`` to ``output``.

    Args:
        model: a plugin ``BottomupPoseEstimator`` (see :func:`build_model`).
        input_size: ``(w, h)``, multiples of 32; the config's by default. The
            size is fixed in the graph: MMPose's ``HybridEncoder`` computes its
            position encodings and reshapes from Python ints, which both exporters
            bake in (a graph traced with dynamic axes fails at any other size).
        opset: ONNX opset (17 runs on every onnxruntime >= 1.13).
        dynamo: use the ``torch.export``-based exporter instead of TorchScript
            tracing (4x slower to export, writes external weights; same outputs).
    """
    check_rtmo(model)
    width, height = input_size or input_size_of(model)
    if width <= 0 or height <= 0 or width % 32 or height % 32:
        raise ValueError(f'input size {width}x{height} must be a positive multiple of 32 (the '
                         'largest stride)')
    model = copy.deepcopy(model).eval()  # switch_to_deploy below changes the neck
    if hasattr(model.neck, 'switch_to_deploy'):  # the neck's position encodings for this size
        # MMPose's HybridEncoder reads ``input_size`` as (h, w) here (RTMO's configs write
        # (w, h)), and keeps the encodings of an earlier switch (fuse_for_deploy's, at the
        # config's size) unless its ``deploy`` flag is cleared
        model.neck.deploy = False
        model.neck.switch_to_deploy(dict(model.test_cfg or {}, input_size=(height, width)))
    wrapper = RTMOExportWrapper(model, score_thr, nms_thr).eval()
    example = torch.zeros(1, 3, height, width)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    names = dict(input_names=list(INPUT_NAMES), output_names=list(OUTPUT_NAMES))
    axes = {'dets': {1: 'num_dets'}, 'keypoints': {1: 'num_dets'}}
    # written into a folder beside ``output`` (the dynamo exporter adds a weights file),
    # verified, then renamed over ``output``: a failed or partial write replaces nothing
    staging = Path(tempfile.mkdtemp(prefix=f'.{output.name}.', dir=output.parent))
    try:
        written = staging / output.name
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter('ignore')
            if dynamo:
                torch.onnx.export(wrapper, (example,), str(written), opset_version=opset,
                                  dynamo=True, dynamic_axes=axes, **names)
            else:
                torch.onnx.export(wrapper, (example,), str(written), opset_version=opset,
                                  dynamo=False, do_constant_folding=True, dynamic_axes=axes,
                                  **names)
        try:
            verify_onnx(written)
        except ExportVerificationError as err:
            raise ExportVerificationError(f'{output} not written: {err.reason}; an existing '
                                          'file of that name is unchanged') from err
        _publish(staging, output)
    except OSError as err:
        raise OSError(err.errno, f'cannot write {output} ({err.strerror or err}); '
                      'an existing file of that name is unchanged') from err
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return output


class ExportVerificationError(RuntimeError):
    """The file the exporter wrote is not a complete ONNX graph with the runner's I/O;
    ``reason`` says why, ``str()`` adds the file."""

    def __init__(self, message: str, reason: str = '') -> None:
        super().__init__(message)
        self.reason = reason or message


def verify_onnx(path: Union[str, Path]) -> None:
    """Checks that ``path`` is a complete, valid ONNX graph with inputs ``(input,)`` and
    outputs ``(dets, keypoints)``; raises :class:`ExportVerificationError` otherwise."""
    import onnx

    try:
        onnx.checker.check_model(str(path))  # reads the file (and any external weights)
        graph = onnx.load(str(path), load_external_data=False).graph
    except Exception as err:  # onnx raises its own types (and protobuf's) for broken files
        reason = f'the graph does not load ({str(err).strip().splitlines()[0]})'
        raise ExportVerificationError(f'{path}: {reason}', reason) from err
    initializers = {t.name for t in graph.initializer}
    inputs = tuple(i.name for i in graph.input if i.name not in initializers)
    outputs = tuple(o.name for o in graph.output)
    if inputs != INPUT_NAMES or outputs != OUTPUT_NAMES:
        reason = (f'the graph has inputs {inputs} and outputs {outputs}, expected '
                  f'{INPUT_NAMES} and {OUTPUT_NAMES}')
        raise ExportVerificationError(f'{path}: {reason}', reason)


def _publish(staging: Path, output: Path) -> None:
    """Moves what the exporter wrote in ``staging`` beside ``output``: side files first,
    the graph (named ``output.name``) last, each flushed to disk before its rename."""
    files = sorted(staging.iterdir(), key=lambda p: p.name == output.name)
    for path in files:
        with open(path, 'rb') as f:
            os.fsync(f.fileno())
        os.replace(path, output.parent / path.name)
