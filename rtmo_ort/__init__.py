"""RTMO on onnxruntime: numpy, OpenCV and onnxruntime only (no torch, mmcv, mmengine, mmpose).

Runs the graphs written by ``python -m rtmo_plugin.deploy export`` (and other
RTMO graphs with rtmlib's I/O convention). Preprocessing is rtmlib's, so both
give the same numbers on the same file:

1. letterbox: scale the image by ``r = min(H / h, W / w)`` with
   ``cv2.resize(..., (int(w * r), int(h * r)), INTER_LINEAR)`` (at least 1 pixel each
   way, so that a 1 x 4000 strip still runs), paste it at the **top-left** corner of an
   ``H x W`` canvas filled with 114 (an image that is already ``H x W`` is used as it is,
   ``r = 1``);
2. keep **BGR** channel order and **0-255** values (no mean/std: the graph does
   any normalisation the model needs), HWC -> ``[1, 3, H, W]`` float32.

Outputs ``dets [1, N, 5]`` and ``keypoints [1, N, K, 3]`` are in input pixels;
:meth:`RTMO.postprocess` divides by ``r``. (MMPose's own test pipeline centres
the image instead, so numbers differ slightly from ``mim test``.)
"""
from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path
from typing import Callable, NamedTuple, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

PAD_VALUE = 114

# COCO-17 skeleton (keypoint index pairs) for drawing; other keypoint sets are drawn as points.
COCO_SKELETON = ((15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6),
                 (5, 7), (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4),
                 (3, 5), (4, 6))


def is_fraction(value: float, open_low: bool = False) -> bool:
    """``0 <= value <= 1`` (``0 < value <= 1`` with ``open_low``); False for NaN."""
    return (0 < value <= 1) if open_low else (0 <= value <= 1)


def threshold_arg(open_low: bool = False) -> Callable[[str], float]:
    """argparse ``type=`` for a threshold in [0, 1] (``(0, 1]`` with ``open_low``): argparse
    then refuses other values with a message that names the flag."""
    interval = '(0, 1]' if open_low else '[0, 1]'

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'{text!r} is not a number') from None
        if not is_fraction(value, open_low):
            raise argparse.ArgumentTypeError(f'{text} is outside {interval} (scores and '
                                             'IoUs lie in [0, 1])')
        return value

    return parse


def count_arg(minimum: int) -> Callable[[str], int]:
    """argparse ``type=`` for an integer of at least ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'{text!r} is not an integer') from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f'{value} is less than {minimum}')
        return value

    return parse


def new_file_mode() -> int:
    """The mode ``open()`` gives a new file under the current umask (``tempfile.mkstemp``
    gives 0600: a temporary file renamed into place gets this mode first)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


class ImageFileError(ValueError):
    """A file that is not a complete image; ``reason`` says why, ``str()`` adds the path."""

    def __init__(self, path: Union[str, Path], reason: str) -> None:
        super().__init__(f'{path}: {reason}')
        self.path, self.reason = Path(path), reason


JPEG_START, PNG_START = b'\xff\xd8', b'\x89PNG\r\n\x1a\n'
TAIL_BYTES = 4096  # what a scan reads of a file's end: the JPEG/PNG end markers lie there


def is_truncated(data: bytes, tail: Optional[bytes] = None) -> Optional[str]:
    """Why the bytes of a JPEG or PNG file are incomplete, or None (other formats: None).

    OpenCV decodes a cut JPEG with a warning and grey rows; these checks catch it: a JPEG
    whose last end-of-image marker does not follow its last start-of-scan (inside scan
    data ``FF`` is always followed by ``00`` or a restart marker, so ``FF D9`` there is the
    end), a PNG without its closing IEND chunk.

    Args:
        data: the whole file; or, with ``tail``, only its first bytes (8 or more).
        tail: the file's last bytes (e.g. :data:`TAIL_BYTES`), so that a scan of a large
            dataset reads two small pieces of each file; the end markers are looked for
            there (a JPEG whose last scan starts before them: the end marker suffices).
    """
    end = data if tail is None else tail
    if data[:2] == JPEG_START:
        if end.rfind(b'\xff\xd9') < max(end.rfind(b'\xff\xda'), 0):
            return 'truncated JPEG (the file ends before its end-of-image marker)'
    elif data[:8] == PNG_START and b'IEND\xaeB`\x82' not in end[-TAIL_BYTES:]:
        return 'truncated PNG (no IEND chunk at the end)'
    return None


def open_regular(path: Union[str, Path]) -> int:
    """A read-only descriptor of ``path`` if it is a regular file (opened without blocking,
    so a FIFO cannot hang the caller); :class:`ImageFileError` otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0))
    except FileNotFoundError:
        raise ImageFileError(path, 'no such file') from None
    except PermissionError:
        raise ImageFileError(path, 'permission denied') from None
    except OSError as err:
        raise ImageFileError(path, f'cannot open it ({err.strerror})') from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ImageFileError(path, 'not a regular file (a folder, FIFO, device or socket)')
    return fd


def read_image(path: Union[str, Path]) -> np.ndarray:
    """BGR uint8 ``[h, w, 3]`` of an image file, or :class:`ImageFileError` naming the file
    and the reason: missing, not a regular file, unreadable, empty, truncated, undecodable."""
    with os.fdopen(open_regular(path), 'rb') as f:
        data = f.read()
    if not data:
        raise ImageFileError(path, 'empty file (0 bytes)')
    reason = is_truncated(data)
    if reason:
        raise ImageFileError(path, reason)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ImageFileError(path, 'OpenCV cannot decode it (not an image, or a corrupt or '
                             'unsupported one)')
    return image


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
    # at least one pixel: a 1 x 4000 strip scales to 0 rows otherwise (cv2.resize refuses)
    new_w = max(1, int(image.shape[1] * ratio))
    new_h = max(1, int(image.shape[0] * ratio))
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
    in original image pixels (input pixels divided by the letterbox scale).

    ``score_thr`` must lie in [0, 1]: the graph's placeholder row (nobody found) has
    score 0 and is never kept."""
    if not is_fraction(score_thr):
        raise ValueError(f'score_thr={score_thr} must be in [0, 1]')
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

        if not is_fraction(score_thr):
            raise ValueError(f'score_thr={score_thr} must be in [0, 1]')
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


__all__ = ['COCO_SKELETON', 'JPEG_START', 'PAD_VALUE', 'PNG_START', 'TAIL_BYTES',
           'ImageFileError', 'Poses', 'RTMO', 'count_arg', 'draw', 'is_fraction', 'is_truncated',
           'letterbox', 'new_file_mode', 'open_regular', 'postprocess', 'read_image',
           'threshold_arg', 'to_input']
