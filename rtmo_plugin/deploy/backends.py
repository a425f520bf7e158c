"""The inference backends (paths through one runtime at one precision) that the benchmark
times and the evaluation scores.

Every path is a callable ``BGR image [h, w, 3] -> rtmo_ort.Poses`` (original
image pixels). All but ``eager`` share rtmo_ort's (rtmlib's) pre- and
post-processing, so they differ only in how the network runs.

==================  ============================================================
``eager``           plugin model, MMPose's test pipeline and ``predict`` (reference)
``ort_fp32``        exported graph on onnxruntime, float32
``ort_fused_fp32``  graph of the deploy-time fused model (:mod:`.fuse`)
``torch_fused_bf16``  fused model in torch, bf16 autocast + channels_last (AMX/AVX512-BF16)
``ort_int8_dynamic``  dynamic int8 (weights int8, activations per call)
``ort_int8_static``   static int8 (QDQ, calibrated), head outputs and DCC in float32
``ort_int8_static_all``  static int8 of every conv/matmul (where MMPose users saw scores collapse)
==================  ============================================================
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from rtmo_ort import RTMO, Poses, postprocess, to_input

from .export import RTMOExportWrapper, export_onnx, input_size_of
from .fuse import fuse_for_deploy
from .quantize import quantize_dynamic_int8, quantize_static_int8

Predictor = Callable[[np.ndarray], Poses]
ALL_PATHS = ('eager', 'ort_fp32', 'ort_fused_fp32', 'torch_fused_bf16', 'ort_int8_dynamic',
             'ort_int8_static', 'ort_int8_static_all')


class TorchEstimator:
    """rtmo_ort's pre/post-processing around an eager model (fp32 or bf16 autocast).

    Args:
        model: a plugin model (e.g. :func:`.fuse.fuse_for_deploy`'s).
        input_size: ``(w, h)`` of the letterbox; the model's ``test_cfg.input_size`` by
            default (:func:`.export.input_size_of`).
        bf16: run the convs under bf16 autocast, with channels_last tensors.
    """

    def __init__(self, model: nn.Module, input_size: Optional[Tuple[int, int]] = None,
                 score_thr: float = 0.0, bf16: bool = False,
                 graph_score_thr: Optional[float] = None) -> None:
        self.input_size = input_size or input_size_of(model)
        self.memory_format = torch.channels_last if bf16 else torch.contiguous_format
        self.wrapper = RTMOExportWrapper(
            model.to(memory_format=self.memory_format), score_thr=graph_score_thr,
            autocast_dtype=torch.bfloat16 if bf16 else None).eval()
        self.score_thr = score_thr

    @torch.no_grad()
    def __call__(self, image: np.ndarray) -> Poses:
        array, ratio = to_input(image, self.input_size)
        tensor = torch.from_numpy(array)
        dets, keypoints = self.wrapper(tensor.contiguous(memory_format=self.memory_format))
        return postprocess(dets.numpy(), keypoints.numpy(), ratio, self.score_thr)


class EagerEstimator:
    """The plugin model through MMPose's test pipeline and ``predict`` (the reference)."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def __call__(self, image: np.ndarray) -> Poses:
        from mmpose.apis import inference_bottomup

        pred = inference_bottomup(self.model, image)[0].pred_instances
        return Poses(bboxes=np.asarray(pred.bboxes, np.float32).reshape(-1, 4),
                     scores=np.asarray(pred.bbox_scores, np.float32),
                     keypoints=np.asarray(pred.keypoints, np.float32),
                     keypoint_scores=np.asarray(pred.keypoint_scores, np.float32))


def calibration_inputs(images: Sequence[np.ndarray], input_size: Tuple[int, int]):
    """Preprocessed ``[1, 3, H, W]`` float32 inputs for static int8 calibration."""
    return [to_input(image, input_size)[0] for image in images]


def build_backends(model: nn.Module, work_dir: Path, calibration: Sequence[np.ndarray],
                   names: Sequence[str] = ALL_PATHS, num_threads: int = 0,
                   input_size: Optional[Tuple[int, int]] = None) -> Dict[str, Predictor]:
    """Exports/quantises only what ``names`` need into ``work_dir``; returns the predictors.

    Args:
        model: the plugin model (eval mode, CPU), unchanged by this function.
        calibration: BGR images for static int8 calibration.
        names: a subset of :data:`ALL_PATHS`, in the order the predictors are returned.
        input_size: ``(w, h)`` of every graph and letterbox; read once from the model's
            ``test_cfg.input_size`` by default.
    """
    unknown = sorted(set(names) - set(ALL_PATHS))
    if unknown:
        raise ValueError(f'unknown paths {unknown}; choose from {ALL_PATHS}')
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    size = input_size or input_size_of(model)
    built: Dict[str, object] = {}

    def once(key: str, make: Callable[[], object]):
        if key not in built:  # the fused model and its graph serve several paths
            built[key] = make()
        return built[key]

    def fused_model() -> nn.Module:
        return once('fused', lambda: fuse_for_deploy(model))

    def fused_onnx() -> Path:
        return once('fused_onnx', lambda: export_onnx(
            fused_model(), work_dir / 'rtmo_fused_fp32.onnx', input_size=size))

    def ort(path: Path) -> RTMO:
        return RTMO(path, score_thr=0.0, num_threads=num_threads)

    def make(name: str) -> Predictor:
        if name == 'eager':
            return EagerEstimator(model)
        if name == 'ort_fp32':
            return ort(export_onnx(model, work_dir / 'rtmo_fp32.onnx', input_size=size))
        if name == 'ort_fused_fp32':
            return ort(fused_onnx())
        if name == 'torch_fused_bf16':
            return TorchEstimator(fuse_for_deploy(model), input_size=size, bf16=True)
        if name == 'ort_int8_dynamic':
            return ort(quantize_dynamic_int8(fused_onnx(), work_dir / 'rtmo_int8_dyn.onnx'))
        kwargs = dict(scopes=None) if name.endswith('_all') else {}
        return ort(quantize_static_int8(fused_onnx(), work_dir / f'{name}.onnx',
                                        calibration_inputs(calibration, size), **kwargs))

    return {name: make(name) for name in names}
