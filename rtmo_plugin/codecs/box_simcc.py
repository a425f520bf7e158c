"""SimCC-style 1-D heatmap codec whose bins are laid across an instance box.

Bin geometry (the single place it is defined in this package): for a box with
centre ``c`` and size ``s`` on one axis, bin ``i`` of ``n`` sits at::

    c + s * u_i,   u_i = -0.5 + i / (n - 1),   i = 0 .. n-1

RTMO's head lays the bins across each predicted box (padded by
``box_padding``); a top-down model lays them across its input crop, where the
"box" is the span ``[0, (n - 1) / simcc_split_ratio]``, so that bin ``i`` sits at
``i / simcc_split_ratio`` exactly as in MMPose's ``SimCCLabel``.

The module-level functions are batched, differentiable torch functions used by
the RTMO head for its dynamic targets and decoding; :class:`BoxSimCCLabel`
wraps them with the numpy ``encode`` / ``decode`` contract of MMPose codecs
(its arg-max decoding, :func:`argmax_decode`, is numpy: no model uses it in torch).
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmpose.codecs.base import BaseKeypointCodec
from mmpose.registry import KEYPOINT_CODECS
from torch import Tensor

from ..numerics import exp_decay

_KERNELS = ('gaussian', 'laplace')
_DECODERS = ('argmax', 'expectation')


def bin_offsets(num_bins: int, device=None, dtype=torch.float32) -> Tensor:
    """Offsets ``u_i`` of ``num_bins`` bins relative to a unit box, shape ``[num_bins]``."""
    return torch.linspace(-0.5, 0.5, num_bins, device=device, dtype=dtype)


def box_bins(centers: Tensor, scales: Tensor, offsets_x: Tensor,
             offsets_y: Tensor) -> Tuple[Tensor, Tensor]:
    """Bin positions across boxes.

    Args:
        centers: box centres, shape ``[..., 2]``.
        scales: box sizes (w, h), shape ``[..., 2]``.
        offsets_x: ``[Nx]`` and offsets_y: ``[Ny]`` from :func:`bin_offsets`.

    Returns:
        ``x_bins [..., Nx]`` and ``y_bins [..., Ny]`` in the boxes' coordinates.
    """
    x_bins = centers[..., 0:1] + scales[..., 0:1] * offsets_x
    y_bins = centers[..., 1:2] + scales[..., 1:2] * offsets_y
    return x_bins, y_bins


def xyxy_to_center_scale(bboxes: Tensor, padding: float) -> Tuple[Tensor, Tensor]:
    """``[..., 4]`` xyxy boxes -> centres ``[..., 2]`` and padded sizes ``[..., 2]``."""
    top_left, bottom_right = bboxes[..., :2], bboxes[..., 2:4]
    return (top_left + bottom_right) * 0.5, (bottom_right - top_left) * padding


def laplace_labels(keypoints: Tensor, x_bins: Tensor, y_bins: Tensor,
                   sigmas: Tensor, areas: Tensor) -> Tuple[Tensor, Tensor]:
    """RTMO's MLE targets: Laplacian 1-D labels whose deviation scales with the instance size.

    ``label(b) = exp(-|kpt - b| / (2 * sigma * sqrt(area))) / sigma`` per axis, with
    ``sqrt(area)`` clipped at 1 and ``sigma`` at 1e-3.

    Args:
        keypoints: ``[N, K, 2]`` target coordinates.
        x_bins: ``[N, Nx]`` and y_bins: ``[N, Ny]`` bin positions of each instance.
        sigmas: ``[N, K]`` relative deviations (RTMO learns them).
        areas: ``[N]`` instance areas in squared pixels.

    Returns:
        ``labels_x [N, K, Nx]`` and ``labels_y [N, K, Ny]``.
    """
    sigmas = sigmas.clip(min=1e-3).unsqueeze(-1)
    deviation = areas.clip(min=1).sqrt().view(-1, 1, 1) * sigmas
    dist_x = (keypoints[..., 0:1] - x_bins.unsqueeze(1)).abs()
    dist_y = (keypoints[..., 1:2] - y_bins.unsqueeze(1)).abs()
    return (exp_decay(-dist_x / (2 * deviation)) / sigmas,
            exp_decay(-dist_y / (2 * deviation)) / sigmas)


def gaussian_labels(keypoints: Tensor, x_bins: Tensor, y_bins: Tensor,
                    sigmas: Tensor, normalize: bool = True) -> Tuple[Tensor, Tensor]:
    """SimCC's Gaussian 1-D labels.

    Args:
        keypoints: ``[N, K, 2]`` coordinates.
        x_bins: ``[N, Nx]`` and y_bins: ``[N, Ny]`` bin positions.
        sigmas: ``[N, 2]`` deviations per axis, in the units of the coordinates.
        normalize: divide by ``sigma_in_bins * sqrt(2 pi)`` as SimCC does.

    Returns:
        ``labels_x [N, K, Nx]`` and ``labels_y [N, K, Ny]``.
    """
    labels = []
    for axis, bins in enumerate((x_bins, y_bins)):
        sigma = sigmas[:, axis].view(-1, 1, 1)
        dist = keypoints[..., axis:axis + 1] - bins.unsqueeze(1)
        label = exp_decay(-dist.square() / (2 * sigma.square()))
        if normalize:
            bin_width = (bins[:, 1:2] - bins[:, 0:1]).unsqueeze(1)
            label = label / (sigma / bin_width * np.sqrt(2 * np.pi))
        labels.append(label)
    return labels[0], labels[1]


def expectation_decode(probs_x: Tensor, probs_y: Tensor, x_bins: Tensor,
                       y_bins: Tensor) -> Tensor:
    """Integral (soft-argmax) decoding of normalised 1-D heatmaps.

    Args:
        probs_x: ``[N, K, Nx]`` and probs_y: ``[N, K, Ny]``, each summing to 1 over bins.
        x_bins: ``[N, Nx]`` and y_bins: ``[N, Ny]`` bin positions.

    Returns:
        ``[N, K, 2]`` coordinates.
    """
    x = (probs_x * x_bins.unsqueeze(1)).sum(-1)
    y = (probs_y * y_bins.unsqueeze(1)).sum(-1)
    return torch.stack((x, y), dim=-1)


def argmax_decode(heatmaps_x: np.ndarray, heatmaps_y: np.ndarray, x_bins: np.ndarray,
                  y_bins: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Arg-max decoding as SimCC does it, in numpy (the codec's numpy ``decode``; a few
    numpy calls cost less than torch's per-call overhead on these small arrays).

    Args:
        heatmaps_x: ``[N, K, Nx]`` and heatmaps_y: ``[N, K, Ny]``.
        x_bins: ``[N, Nx]`` and y_bins: ``[N, Ny]`` bin positions (broadcast views
            are fine).

    Returns:
        keypoints ``[N, K, 2]`` and scores ``[N, K]`` (the smaller of the two
        maxima); keypoints with a score <= 0 are set to -1, as in SimCC. The first
        maximum wins a tie.
    """
    idx_x, idx_y = heatmaps_x.argmax(-1), heatmaps_y.argmax(-1)  # [N, K]
    n = np.arange(idx_x.shape[0])[:, None]
    k = np.arange(idx_x.shape[1])
    keypoints = np.stack((x_bins[n, idx_x], y_bins[n, idx_y]), -1)
    scores = np.minimum(heatmaps_x[n, k, idx_x], heatmaps_y[n, k, idx_y])
    keypoints[scores <= 0] = -1
    return keypoints, scores


@KEYPOINT_CODECS.register_module()
class BoxSimCCLabel(BaseKeypointCodec):
    """SimCC-style 1-D heatmap codec with bins laid across a box.

    With ``input_size`` set and no boxes given, it is a drop-in for MMPose's
    ``SimCCLabel`` in top-down configs: the same bin positions
    (``i / simcc_split_ratio``), output keys, shapes and arg-max decoding. The
    one difference: targets are centred on the exact keypoint instead of the
    nearest bin. Given boxes (``bbox`` in ``encode``/``decode``), the bins are laid
    across each box padded by ``box_padding``, as RTMO does.

    Args:
        num_bins: bins per axis ``(Nx, Ny)``; defaults to
            ``input_size * simcc_split_ratio`` rounded.
        input_size: ``(w, h)`` of the model input; needed when no boxes are given.
        simcc_split_ratio: bins per input pixel when bins come from ``input_size``.
        kernel: ``'gaussian'`` (SimCC) or ``'laplace'`` (RTMO) label shape.
        sigma: label deviation in bins, a float or ``(sx, sy)`` (``'laplace'`` uses
            ``sx``). RTMO's head uses :func:`laplace_labels` with learned
            deviations relative to ``sqrt(area)`` instead.
        normalize: scale Gaussian labels to unit area in bin units (as SimCC).
        decode_mode: ``'argmax'`` (SimCC) or ``'expectation'`` (RTMO; softmax over
            bins, then the expected position).
        box_padding: box size multiplier before laying bins across it.

    Encoded keys (``N`` instances, ``K`` keypoints): ``keypoint_x_labels [N, K, Nx]``,
    ``keypoint_y_labels [N, K, Ny]`` and ``keypoint_weights [N, K]``.
    """

    label_mapping_table = dict(
        keypoint_x_labels='keypoint_x_labels',
        keypoint_y_labels='keypoint_y_labels',
        keypoint_weights='keypoint_weights',
    )

    def __init__(self,
                 num_bins: Optional[Sequence[int]] = None,
                 input_size: Optional[Sequence[int]] = None,
                 simcc_split_ratio: float = 2.0,
                 kernel: str = 'gaussian',
                 sigma: Union[float, Sequence[float]] = 6.0,
                 normalize: bool = True,
                 decode_mode: str = 'argmax',
                 box_padding: float = 1.25) -> None:
        super().__init__()
        if kernel not in _KERNELS:
            raise ValueError(f'BoxSimCCLabel: kernel={kernel!r}, expected one of {_KERNELS}')
        if decode_mode not in _DECODERS:
            raise ValueError(
                f'BoxSimCCLabel: decode_mode={decode_mode!r}, expected one of {_DECODERS}')
        if num_bins is None:
            if input_size is None:
                raise ValueError('BoxSimCCLabel needs `num_bins=(Nx, Ny)` or `input_size=(w, h)`')
            num_bins = [int(round(s * simcc_split_ratio)) for s in input_size]
        if len(num_bins) != 2 or min(num_bins) < 2:
            raise ValueError(f'BoxSimCCLabel: num_bins={num_bins!r}, expected two ints >= 2')
        sigma = (sigma, sigma) if np.isscalar(sigma) else tuple(sigma)
        if len(sigma) != 2 or min(sigma) <= 0:
            raise ValueError(f'BoxSimCCLabel: sigma={sigma!r}, expected a positive float or pair')
        if box_padding <= 0 or simcc_split_ratio <= 0:
            raise ValueError('BoxSimCCLabel: box_padding and simcc_split_ratio must be > 0')

        self.num_bins = tuple(int(n) for n in num_bins)
        self.input_size = None if input_size is None else tuple(input_size)
        self.simcc_split_ratio = simcc_split_ratio
        self.kernel = kernel
        self.sigma = np.asarray(sigma, dtype=np.float32)
        self.normalize = normalize
        self.decode_mode = decode_mode
        self.box_padding = box_padding
        self._input_bins: Optional[Tuple[Tensor, Tensor]] = None
        self._input_bins_np: Optional[Tuple[np.ndarray, np.ndarray]] = None

    # batched torch interface (used by the RTMO head) -------------------------

    def offsets(self, device=None, dtype=torch.float32) -> Tuple[Tensor, Tensor]:
        """Bin offsets relative to a unit box: ``[Nx]`` and ``[Ny]``."""
        return (bin_offsets(self.num_bins[0], device, dtype),
                bin_offsets(self.num_bins[1], device, dtype))

    def bins_for_boxes(self, bboxes: Tensor,
                       origins: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Bins across padded xyxy boxes ``[N, 4]`` -> ``[N, Nx]``, ``[N, Ny]``.

        With ``origins [N, 2]`` the positions are relative to them (the DCC
        encodes bins relative to each detection's grid cell).
        """
        centers, scales = xyxy_to_center_scale(bboxes, self.box_padding)
        if origins is not None:
            centers = centers - origins
        return box_bins(centers, scales, *self.offsets(bboxes.device, bboxes.dtype))

    def bins_for_input(self, num_instances: int) -> Tuple[Tensor, Tensor]:
        """Bins across the input crop, SimCC positions ``i / split_ratio``."""
        if self.input_size is None:
            raise ValueError('BoxSimCCLabel: pass `bbox` or set `input_size` in the codec config')
        if self._input_bins is None:  # constant: computed on first use
            span = (torch.tensor(self.num_bins, dtype=torch.float64) - 1) / self.simcc_split_ratio
            x_bins, y_bins = box_bins(span / 2, span, *self.offsets(dtype=torch.float64))
            self._input_bins = x_bins.float(), y_bins.float()
        return tuple(bins.expand(num_instances, -1) for bins in self._input_bins)

    # numpy codec interface --------------------------------------------------

    def _bins(self, num_instances: int, bbox: Optional[np.ndarray]) -> Tuple[Tensor, Tensor]:
        if bbox is None:
            return self.bins_for_input(num_instances)
        bbox = torch.as_tensor(np.asarray(bbox, dtype=np.float32)).reshape(-1, 4)
        if len(bbox) != num_instances:
            raise ValueError(f'BoxSimCCLabel: {len(bbox)} boxes for {num_instances} instances')
        return self.bins_for_boxes(bbox)

    def _numpy_bins(self, num_instances: int,
                    bbox: Optional[np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
        """:meth:`_bins` as numpy arrays (the input bins cached: decoding reuses them)."""
        if bbox is not None:
            return tuple(bins.numpy() for bins in self._bins(num_instances, bbox))
        if self._input_bins_np is None:
            self._input_bins_np = tuple(bins[0].numpy() for bins in self._bins(1, None))
        return tuple(np.broadcast_to(bins, (num_instances, len(bins)))
                     for bins in self._input_bins_np)

    def encode(self,
               keypoints: np.ndarray,
               keypoints_visible: Optional[np.ndarray] = None,
               bbox: Optional[np.ndarray] = None) -> dict:
        """Encode keypoints ``[N, K, 2]`` (input-space pixels) into 1-D labels.

        Args:
            keypoints: ``[N, K, 2]`` coordinates.
            keypoints_visible: ``[N, K]``; keypoints below 0.5 get weight 0.
            bbox: optional ``[N, 4]`` xyxy boxes to lay the bins across.

        Returns:
            dict with ``keypoint_x_labels [N, K, Nx]``, ``keypoint_y_labels
            [N, K, Ny]`` (float32) and ``keypoint_weights [N, K]``. Keypoints whose
            label lies wholly outside the bins (beyond 3 sigma) get weight 0.
        """
        keypoints = np.asarray(keypoints, dtype=np.float32)
        if keypoints.ndim != 3 or keypoints.shape[-1] < 2:
            raise ValueError(
                f'BoxSimCCLabel.encode: keypoints must be [N, K, 2], got {keypoints.shape}')
        num_instances, num_keypoints = keypoints.shape[:2]
        if keypoints_visible is None:
            keypoints_visible = np.ones((num_instances, num_keypoints), dtype=np.float32)
        weights = (np.asarray(keypoints_visible, dtype=np.float32) >= 0.5).astype(np.float32)

        x_bins, y_bins = self._bins(num_instances, bbox)
        kpts = torch.from_numpy(keypoints[..., :2].copy())
        bin_width = torch.stack((x_bins[:, 1] - x_bins[:, 0], y_bins[:, 1] - y_bins[:, 0]), -1)
        sigmas = torch.from_numpy(self.sigma) * bin_width  # [N, 2], coordinate units
        if self.kernel == 'gaussian':
            labels_x, labels_y = gaussian_labels(kpts, x_bins, y_bins, sigmas, self.normalize)
        else:  # RTMO's Laplacian for an instance of area 1: the deviation is `sigma` bins (x)
            deviation = sigmas[:, :1].expand(-1, num_keypoints)
            labels_x, labels_y = laplace_labels(
                kpts, x_bins, y_bins, deviation, torch.ones(num_instances))

        radius = 3 * sigmas.unsqueeze(1)  # [N, 1, 2]
        low = torch.stack((x_bins[:, 0], y_bins[:, 0]), -1).unsqueeze(1) - radius
        high = torch.stack((x_bins[:, -1], y_bins[:, -1]), -1).unsqueeze(1) + radius
        inside = ((kpts >= low) & (kpts <= high)).all(-1).numpy()
        weights = weights * inside
        visible = torch.from_numpy(weights > 0).unsqueeze(-1)
        return dict(
            keypoint_x_labels=(labels_x * visible).numpy().astype(np.float32),
            keypoint_y_labels=(labels_y * visible).numpy().astype(np.float32),
            keypoint_weights=weights)

    def decode(self, simcc_x: np.ndarray, simcc_y: np.ndarray,
               bbox: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray]:
        """Decode 1-D heatmaps ``[N, K, Nx]`` / ``[N, K, Ny]`` (or without ``N``).

        Returns:
            keypoints ``[N, K, 2]`` in input-space pixels (or box coordinates) and
            scores ``[N, K]``.
        """
        heatmaps_x = np.asarray(simcc_x, dtype=np.float32)
        heatmaps_y = np.asarray(simcc_y, dtype=np.float32)
        if heatmaps_x.ndim == 2:
            heatmaps_x, heatmaps_y = heatmaps_x[None], heatmaps_y[None]
        if heatmaps_x.shape[-1] != self.num_bins[0] or heatmaps_y.shape[-1] != self.num_bins[1]:
            raise ValueError(
                f'BoxSimCCLabel.decode: heatmaps have {heatmaps_x.shape[-1]} x '
                f'{heatmaps_y.shape[-1]} bins, the codec has num_bins={self.num_bins}')
        if self.decode_mode == 'argmax':
            x_bins, y_bins = self._numpy_bins(len(heatmaps_x), bbox)
            return argmax_decode(heatmaps_x, heatmaps_y, x_bins, y_bins)
        x_bins, y_bins = self._bins(len(heatmaps_x), bbox)
        probs_x = torch.from_numpy(heatmaps_x).softmax(-1)
        probs_y = torch.from_numpy(heatmaps_y).softmax(-1)
        keypoints = expectation_decode(probs_x, probs_y, x_bins, y_bins)
        scores = torch.minimum(probs_x.max(-1).values, probs_y.max(-1).values)
        return keypoints.numpy(), scores.numpy()
