"""``BoxSimCC3DLabel``: SimCC labels on three axes, x/y in the input crop, z in metres
around the root.

x and y are the plugin's :class:`~rtmo_plugin.codecs.BoxSimCCLabel` (its bins, labels and
decoding, unchanged: bin ``i`` at ``i / simcc_split_ratio`` input pixels, as MMPose's
``SimCCLabel``). z gets ``Nz`` bins over metres of depth relative to the root, the midpoint
of the hips (COCO-WholeBody points 11 and 12). Two layouts, written only here
(:meth:`BoxSimCC3DLabel.depth_bins`):

- ``depth_layout='rtmw3d'`` (the default): MMPose's RTMW3D (``SimCC3DLabel`` of its
  ``projects/rtmpose3d``), ``Nz = w * simcc_split_ratio`` bins (576 at 288x384) at::

      z_i = (i / (Nz / 2) - 1) * depth_range,   i = 0 .. Nz-1

  i.e. from ``-depth_range`` to ``depth_range * (1 - 2 / Nz)``; bin ``Nz / 2`` is the root.
  MMPose's codec writes the same as ``(z_in / (w / 2) - 1) * z_range`` with
  ``z_in = i / simcc_split_ratio``, so its released checkpoints decode to the same depths.
- ``depth_layout='symmetric'``: ``Nz = w * simcc_split_ratio + 1`` bins (odd) laid with the
  plugin's ``bin_offsets`` across ``[-depth_range, +depth_range]``,
  ``z_i = 2 * depth_range * (-0.5 + i / (Nz - 1))``: the middle bin is the root exactly.
  Not MMPose's layout (its checkpoints do not load); the tiny CPU config uses it.

Samples without 3-D labels (``keypoints_3d`` absent) get z weight 0, so whole-body 2-D data
trains only x and y. A prediction's absolute depth is ``root_depth + z``: the sample's root
depth when its 3-D label is known, else ``default_root_depth``.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmpose.codecs.base import BaseKeypointCodec
from mmpose.datasets.transforms import PackPoseInputs
from mmpose.registry import KEYPOINT_CODECS

from rtmo_plugin.codecs import BoxSimCCLabel
from rtmo_plugin.codecs.box_simcc import bin_offsets, gaussian_labels

PAPER_INPUT_SIZE = (288, 384)
PAPER_DEPTH_RANGE = 2.1744869    # metres either side of the root (RTMW3D's z range)
PAPER_ROOT_DEPTH = 5.14388       # metres: mean root depth of its training set
ROOT_INDICES = (11, 12)          # left and right hip
DEPTH_LAYOUTS = ('rtmw3d', 'symmetric')


@KEYPOINT_CODECS.register_module()
class BoxSimCC3DLabel(BaseKeypointCodec):
    """3-axis SimCC codec: ``BoxSimCCLabel`` for x/y plus metric depth bins for z.

    Args:
        input_size: ``(w, h)`` of the model input.
        sigma: label deviation in bins, ``(sx, sy, sz)`` or one float.
        simcc_split_ratio: bins per input pixel on x and y.
        num_depth_bins: z bins; defaults to ``round(w * simcc_split_ratio) + 1`` (RTMW3D's
            count plus one, so that an odd count puts a bin at the root's depth).
        depth_range: metres of depth either side of the root that the z bins cover.
        default_root_depth: root depth in metres used when a sample has no 3-D label.
        root_indices: keypoints whose mean is the root.
        normalize: scale Gaussian labels to unit area in bin units.
        decode_mode: ``'argmax'`` (SimCC: the most likely bin on each axis) or
            ``'expectation'`` (the mean position under ``softmax(beta * logits)``: it
            minimises the expected squared error, and where a distribution has two modes it
            lies between them while the arg-max picks one).
        beta: logit scale of the expectation's softmax; match the loss's ``beta``
            (``KLDiscretLoss(beta=10)`` in RTMW's configs).

    Encoded keys (``N`` instances, ``K`` keypoints): ``keypoint_{x,y,z}_labels [N, K, N*]``,
    ``keypoint_weights [N, K]`` (x/y), ``keypoint_z_weights [N, K]`` and ``root_depth [N]``.
    """

    auxiliary_encode_keys = {'keypoints_3d'}
    label_mapping_table = dict(
        keypoint_x_labels='keypoint_x_labels', keypoint_y_labels='keypoint_y_labels',
        keypoint_z_labels='keypoint_z_labels', keypoint_weights='keypoint_weights',
        keypoint_z_weights='keypoint_z_weights')
    # PackPoseInputs packs the codec's table instead of its own: its keys plus the 3-D ones
    instance_mapping_table = dict(
        PackPoseInputs.instance_mapping_table,
        lifting_target='lifting_target', lifting_target_visible='lifting_target_visible',
        camera_param='camera_params', root_depth='root_depth')

    def __init__(self,
                 input_size: Sequence[int] = PAPER_INPUT_SIZE,
                 sigma: Union[float, Sequence[float]] = (6.0, 6.93, 6.0),
                 simcc_split_ratio: float = 2.0,
                 depth_layout: str = 'rtmw3d',
                 num_depth_bins: Optional[int] = None,
                 depth_range: float = PAPER_DEPTH_RANGE,
                 default_root_depth: float = PAPER_ROOT_DEPTH,
                 root_indices: Sequence[int] = ROOT_INDICES,
                 normalize: bool = False,
                 decode_mode: str = 'argmax',
                 beta: float = 10.0) -> None:
        super().__init__()
        sigma = (sigma,) * 3 if np.isscalar(sigma) else tuple(sigma)
        if len(sigma) != 3 or min(sigma) <= 0:
            raise ValueError(f'BoxSimCC3DLabel: sigma={sigma!r}, expected a positive float '
                             'or (sx, sy, sz)')
        if depth_range <= 0 or default_root_depth <= 0:
            raise ValueError('BoxSimCC3DLabel: depth_range and default_root_depth are metres '
                             f'and must be > 0, got {depth_range} and {default_root_depth}')
        self.xy = BoxSimCCLabel(input_size=input_size, sigma=sigma[:2],
                                simcc_split_ratio=simcc_split_ratio, normalize=normalize,
                                decode_mode=decode_mode)
        if beta <= 0:
            raise ValueError(f'BoxSimCC3DLabel: beta={beta} must be > 0 (the logit scale of '
                             'the loss, e.g. 10 as KLDiscretLoss(beta=10))')
        self.decode_mode, self.beta = decode_mode, float(beta)
        self.input_size = tuple(input_size)
        self.simcc_split_ratio = simcc_split_ratio
        if depth_layout not in DEPTH_LAYOUTS:
            raise ValueError(f'BoxSimCC3DLabel: depth_layout={depth_layout!r}, expected one '
                             f'of {DEPTH_LAYOUTS}')
        self.depth_layout = depth_layout
        if num_depth_bins is None:
            num_depth_bins = (int(round(input_size[0] * simcc_split_ratio))
                              + (depth_layout == 'symmetric'))
        if num_depth_bins < 2:
            raise ValueError(f'BoxSimCC3DLabel: num_depth_bins={num_depth_bins}, need >= 2')
        self.num_bins = (*self.xy.num_bins, int(num_depth_bins))
        self.sigma_z = float(sigma[2])
        self.depth_range = float(depth_range)
        self.default_root_depth = float(default_root_depth)
        self.root_indices = list(root_indices)
        self.normalize = normalize

    def depth_bins(self, device=None, dtype=torch.float32) -> torch.Tensor:
        """Root-relative depth of each z bin in metres, ``[Nz]`` (the layouts: the module)."""
        num = self.num_bins[2]
        if self.depth_layout == 'rtmw3d':
            index = torch.arange(num, device=device, dtype=torch.float64)
            return ((index / (num / 2) - 1) * self.depth_range).to(dtype)
        offsets = bin_offsets(num, device, torch.float64)  # middle bin exactly 0
        return (offsets * (2 * self.depth_range)).to(dtype)

    def root_depth(self, keypoints_3d: np.ndarray) -> np.ndarray:
        """``[N, K, 3]`` camera-space metres -> root depth ``[N]``."""
        return keypoints_3d[:, self.root_indices, 2].mean(-1)

    def encode(self,
               keypoints: np.ndarray,
               keypoints_visible: Optional[np.ndarray] = None,
               keypoints_3d: Optional[np.ndarray] = None) -> dict:
        """Encode input-space keypoints ``[N, K, 2]`` and camera-space ``keypoints_3d``
        ``[N, K, 3]`` (metres; None for 2-D-only samples) into 3-axis labels."""
        encoded = self.xy.encode(keypoints, keypoints_visible)
        num_instances, num_keypoints = encoded['keypoint_weights'].shape
        shape = (num_instances, num_keypoints)
        if keypoints_3d is None:
            encoded['keypoint_z_labels'] = np.zeros((*shape, self.num_bins[2]), np.float32)
            encoded['keypoint_z_weights'] = np.zeros(shape, np.float32)
            encoded['root_depth'] = np.full(num_instances, self.default_root_depth, np.float32)
            return encoded
        keypoints_3d = np.asarray(keypoints_3d, dtype=np.float32)
        if keypoints_3d.shape != (*shape, 3):
            raise ValueError(f'BoxSimCC3DLabel.encode: keypoints_3d must be [N, K, 3] = '
                             f'{(*shape, 3)} (metres, camera space), got {keypoints_3d.shape}')
        root = self.root_depth(keypoints_3d)
        relative = keypoints_3d[..., 2] - root[:, None]
        labels, weights = self.encode_depth(relative)
        weights = weights * (encoded['keypoint_weights'] > 0)
        encoded['keypoint_z_labels'] = labels * weights[..., None]
        encoded['keypoint_z_weights'] = weights.astype(np.float32)
        encoded['root_depth'] = root.astype(np.float32)
        return encoded

    def encode_depth(self, relative: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Root-relative depths ``[N, K]`` (metres) -> z labels ``[N, K, Nz]`` and weights
        ``[N, K]`` (0 where the label lies wholly outside the bins, beyond 3 sigma)."""
        num_instances = len(relative)
        bins = self.depth_bins(dtype=torch.float32).expand(num_instances, -1)
        sigma = self.sigma_z * float(bins[0, 1] - bins[0, 0])
        depth = torch.from_numpy(np.asarray(relative, np.float32))
        # the plugin's Gaussian labels take two axes: z goes in both, the first is kept
        labels, _ = gaussian_labels(torch.stack((depth, depth), -1), bins, bins,
                                    torch.full((num_instances, 2), sigma), self.normalize)
        first, last = float(bins[0, 0]), float(bins[0, -1])
        inside = (relative >= first - 3 * sigma) & (relative <= last + 3 * sigma)
        return labels.numpy().astype(np.float32), inside.astype(np.float32)

    def decode(self, simcc_x: np.ndarray, simcc_y: np.ndarray, simcc_z: np.ndarray
               ) -> Tuple[np.ndarray, np.ndarray]:
        """``[N, K, Nx/Ny/Nz]`` logits -> keypoints ``[N, K, 3]`` (x, y in input pixels, z in
        metres relative to the root) and scores ``[N, K]``: by arg-max, MMPose's (the smaller
        of the x and y logit maxima; x, y of a keypoint whose score is <= 0 are -1, as the
        plugin's SimCC decoding marks them), by expectation the smaller softmax maximum."""
        logits_x, logits_y, logits_z = (torch.as_tensor(np.asarray(h, dtype=np.float32))
                                        for h in (simcc_x, simcc_y, simcc_z))
        if logits_z.ndim == 2:
            logits_z = logits_z[None]
        if logits_z.shape[-1] != self.num_bins[2]:
            raise ValueError(f'BoxSimCC3DLabel.decode: z heatmaps have {logits_z.shape[-1]} '
                             f'bins, the codec has num_bins={self.num_bins}')
        if self.decode_mode == 'argmax':  # SimCC's: the most likely bin on each axis
            keypoints_xy, scores = self.xy.decode(logits_x.numpy(), logits_y.numpy())
            depth = self.depth_bins()[logits_z.argmax(-1)].numpy()
        else:  # the plugin's expectation decoding softmaxes the scaled logits itself
            keypoints_xy, scores = self.xy.decode((logits_x * self.beta).numpy(),
                                                  (logits_y * self.beta).numpy())
            depth = ((logits_z * self.beta).softmax(-1) * self.depth_bins()).sum(-1).numpy()
        return np.concatenate([keypoints_xy, depth[..., None]], -1), scores
