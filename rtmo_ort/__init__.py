"""RTMO on onnxruntime: numpy, OpenCV and onnxruntime only (no torch, mmcv, mmengine, mmpose).

Runs the graphs written by ``python -m rtmo_plugin.deploy export`` (and other
RTMO graphs with rtmlib's I/O convention). Preprocessing is rtmlib's, so both
give the same numbers on the same file:

1. letterbox: scale the image by ``r = min(H / h, W / w)`` with
   ``cv2.resize(..., (int(w * r), int(h * r)), INTER_LINEAR)``, paste it at the
   **top-left** corner of an ``H x W`` canvas filled with 114 (an image that is
   already ``H x W`` is used as it is, ``r = 1``);
2. keep **BGR** channel order and **0-255** values (no mean/std: the graph does
   any normalisation the model needs), HWC -> ``[1, 3, H, W]`` float32.

Outputs ``dets [1, N, 5]`` and ``keypoints [1, N, K, 3]`` are in input pixels;
:meth:`RTMO.postprocess` divides by ``r``. (MMPose's own test pipeline centres
the image instead, so numbers differ slightly from ``mim test``.)
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

PAD_VALUE = 114

# COCO-17 skeleton (keypoint index pairs) for drawing; other keypoint sets are drawn as points.
COCO_SKELETON = ((15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6),
                 (5, 7), (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4),
                 (3, 5), (4, 6))


class Poses(NamedTuple):
    """People in one image, in original image pixels."""

    bboxes: np.ndarray           # [N, 4] x1, y1, x2, y2
    scores: np.ndarray           # [N]
    keypoints: np.ndarray        # [N, K, 2]
    keypoint_scores: np.ndarray  # [N, K]


def letterbox(image: np.ndarray, size: Tuple[int, int]) -> Tuple[np.ndarray, float]:
    """rtmlib's letterbox: ``image [h, w, 3]`` uint8 -> ``[H, W, 3]`` canvas and the scale ``r``.

    ``size`` is ``(W, H)``.
    """
    width, height = size
    if image.shape[:2] == (height, width):
        return image.copy(), 1.0
    ratio = min(height / image.shape[0], width / image.shape[1])
    new_w, new_h = int(image.shape[1] * ratio), int(image.shape[0] * ratio)
    canvas = np.full((height, width, 3), PAD_VALUE, dtype=np.uint8)
    canvas[:new_h, :new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    return canvas, ratio


def to_input(image: np.ndarray, size: Tuple[int, int]) -> Tuple[np.ndarray, float]:
    """BGR uint8 ``[h, w, 3]`` -> the graph's input ``[1, 3, H, W]`` float32 (letterboxed to
    ``size = (W, H)``, BGR, 0-255) and the letterbox scale ``r``."""
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'expected a BGR image [h, w, 3], got shape {image.shape}')
    canvas, ratio = letterbox(image, size)
    return np.ascontiguousarray(canvas.transpose(2, 0, 1)[None], dtype=np.float32), ratio


def postprocess(dets: np.ndarray, keypoints: np.ndarray, ratio: float,
                score_thr: float) -> Poses:
    """Graph outputs ``[1, N, 5]`` / ``[1, N, K, 3]`` -> people above ``score_thr``,
    in original image pixels (input pixels divided by the letterbox scale)."""
    keep = dets[0, :, 4] > score_thr
    dets, keypoints = dets[0, keep], keypoints[0, keep]
    return Poses(bboxes=dets[:, :4] / ratio, scores=dets[:, 4],
                 keypoints=keypoints[..., :2] / ratio, keypoint_scores=keypoints[..., 2])


class RTMO:
    """One-stage pose estimator on an exported RTMO graph.

    Args:
        onnx_model: path to the ``.onnx`` file.
        score_thr: people below this score are dropped in :meth:`postprocess`
            (the graph already applies the config's ``score_thr`` and NMS).
        num_threads: onnxruntime intra-op threads (0 = onnxruntime's default).
        providers: onnxruntime execution providers.
    """

    def __init__(self, onnx_model: Union[str, Path], score_thr: float = 0.3,
                 num_threads: int = 0,
                 providers: Sequence[str] = ('CPUExecutionProvider',)) -> None:
        import onnxruntime as ort

        path = Path(onnx_model)
        if not path.is_file():
            raise FileNotFoundError(f'{path} not found: export one with '
                                    '`python -m rtmo_plugin.deploy export CONFIG [CHECKPOINT]`')
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads
        self.session = ort.InferenceSession(str(path), options, providers=list(providers))
        inputs = self.session.get_inputs()
        outputs = [o.name for o in self.session.get_outputs()]
        shape = inputs[0].shape
        if len(inputs) != 1 or len(shape) != 4 or len(outputs) != 2:
            raise ValueError(f'{path}: expected one [1, 3, H, W] input and outputs (dets, '
                             f'keypoints), got inputs {[i.shape for i in inputs]} and {outputs}')
        if not all(isinstance(s, int) for s in shape[2:]):
            raise ValueError(f'{path}: the input size must be fixed in the graph, got {shape}')
        self.input_name = inputs[0].name
        self.output_names = outputs
        self.input_size = (int(shape[3]), int(shape[2]))  # (W, H)
        self.score_thr = score_thr

    def preprocess(self, image: np.ndarray) -> Tuple[np.ndarray, float]:
        """BGR uint8 ``[h, w, 3]`` -> input tensor ``[1, 3, H, W]`` float32 and scale ``r``."""
        return to_input(image, self.input_size)

    def inference(self, tensor: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """``[1, 3, H, W]`` -> ``dets [1, N, 5]``, ``keypoints [1, N, K, 3]`` (input pixels)."""
        dets, keypoints = self.session.run(self.output_names, {self.input_name: tensor})
        return dets, keypoints

    def postprocess(self, dets: np.ndarray, keypoints: np.ndarray, ratio: float,
                    score_thr: Optional[float] = None) -> Poses:
        """Drop people below ``score_thr`` and map to original image pixels."""
        return postprocess(dets, keypoints, ratio,
                           self.score_thr if score_thr is None else score_thr)

    def __call__(self, image: np.ndarray, score_thr: Optional[float] = None) -> Poses:
        tensor, ratio = self.preprocess(image)
        return self.postprocess(*self.inference(tensor), ratio, score_thr)


def draw(image: np.ndarray, poses: Poses, keypoint_thr: float = 0.3) -> np.ndarray:
    """A copy of ``image`` with boxes, scores, keypoints and (for COCO-17) the skeleton."""
    canvas = image.copy()
    thickness = max(1, round(max(image.shape[:2]) / 400))
    for box, score, kpts, kpt_scores in zip(*poses):
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), (0, 255, 0), thickness)
        cv2.putText(canvas, f'{score:.2f}', (x1, max(y1 - 3, 10)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4 * thickness, (0, 255, 0), thickness)
        visible = kpt_scores > keypoint_thr
        if len(kpts) == 17:
            for a, b in COCO_SKELETON:
                if visible[a] and visible[b]:
                    cv2.line(canvas, tuple(int(v) for v in kpts[a]),
                             tuple(int(v) for v in kpts[b]), (255, 128, 0), thickness)
        for (x, y), vis in zip(kpts, visible):
            if vis:
                cv2.circle(canvas, (int(x), int(y)), thickness + 1, (0, 0, 255), -1)
    return canvas


__all__ = ['COCO_SKELETON', 'PAD_VALUE', 'Poses', 'RTMO', 'draw', 'letterbox', 'postprocess',
           'to_input']
