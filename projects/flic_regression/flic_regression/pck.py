"""FLIC's metrics as pure numpy functions (the registered metric and the MediaPipe baseline
both score with them; the README gives the formulas).

Shapes: ``pred`` and ``gt`` are ``[N, K, 2]`` pixel coordinates of the same frames, ``gt`` NaN
where a slot is unlabelled and ``pred`` NaN where a model gave no prediction (a missed person:
wrong for PCK, left out of the MSE). ``frame_wh`` is ``[N, 2]`` (frame width, height).

Any non-finite value counts as missing: an inf in ``gt`` is an unlabelled slot, an inf in
``pred`` no prediction, and a person whose torso size is not a finite positive number is not
scored by PCK (it is never counted correct: ``inf <= 0.2 x inf`` would be).
"""
from __future__ import annotations

from typing import Dict, Mapping, Optional, Sequence, Tuple

import numpy as np


def torso_size(gt: np.ndarray, torso: Tuple[int, int]) -> np.ndarray:
    """``[N]`` distance between the two torso slots (FLIC: left shoulder, right hip); NaN when
    either is unlabelled or not finite, or when the two coincide (no scale to measure by)."""
    size = np.linalg.norm(gt[:, torso[0]] - gt[:, torso[1]], axis=-1)
    return np.where(np.isfinite(size) & (size > 0), size, np.nan)


def pck(pred: np.ndarray, gt: np.ndarray, torso: Tuple[int, int], thr: float,
        slots: Optional[Sequence[int]] = None) -> Tuple[float, int]:
    """Fraction of labelled keypoints within ``thr * torso size`` of the truth, and how many
    keypoints were scored. Persons without a torso size are not scored."""
    size = torso_size(gt, torso)
    scored = np.isfinite(gt).all(-1) & np.isfinite(size)[:, None]
    if slots is not None:
        scored[:, [k for k in range(gt.shape[1]) if k not in set(slots)]] = False
    dist = np.linalg.norm(pred - gt, axis=-1)
    with np.errstate(invalid='ignore'):  # NaN distances (unscored) compare False
        correct = np.isfinite(dist) & (dist <= thr * size[:, None])
    count = int(scored.sum())
    return (float((correct & scored).sum() / count) if count else float('nan')), count


def normalised_mse(pred: np.ndarray, gt: np.ndarray, frame_wh: np.ndarray) -> float:
    """Mean over labelled, predicted keypoints and both axes of the squared error in [0, 1]
    frame coordinates (x / width, y / height)."""
    scale = np.asarray(frame_wh, dtype=np.float64)[:, None, :]
    err = ((pred - gt) / scale) ** 2  # [N, K, 2]
    scored = np.isfinite(err).all(-1) & np.isfinite(gt).all(-1) & np.isfinite(pred).all(-1)
    return float(err[scored].mean()) if scored.any() else float('nan')


def flic_metrics(pred: np.ndarray, gt: np.ndarray, frame_wh: np.ndarray,
                 torso: Tuple[int, int], groups: Mapping[str, Sequence[int]],
                 thr: float = 0.2, accuracy_thr: float = 0.5) -> Dict[str, float]:
    """``PCK`` (at ``thr``, all labelled slots), ``PCK_<group>`` per slot group, ``MSE`` (frame
    coordinates), ``Accuracy`` (PCK at the looser ``accuracy_thr``) and ``missed`` (fraction
    of persons without a prediction)."""
    pred, gt = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    if pred.shape != gt.shape or pred.ndim != 3 or pred.shape[-1] != 2:
        raise ValueError(f'flic_metrics: pred {pred.shape} and gt {gt.shape} must both be '
                         '[N, K, 2]')
    if not len(gt):
        raise ValueError('flic_metrics: no persons to score')
    out = {'PCK': pck(pred, gt, torso, thr)[0]}
    for name, slots in groups.items():
        out[f'PCK_{name}'] = pck(pred, gt, torso, thr, slots)[0]
    out['MSE'] = normalised_mse(pred, gt, frame_wh)
    out['Accuracy'] = pck(pred, gt, torso, accuracy_thr)[0]
    out['missed'] = float((~np.isfinite(pred)).all((1, 2)).mean())
    return out
