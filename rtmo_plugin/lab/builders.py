"""The plugin/MMPose twin models, deterministic pipelines and batches.

What the tests and ``tools/benchmark.py`` build (models from configs:
:func:`rtmo_plugin.build.build_model`):

- :func:`build_twins`: the plugin's RTMO and MMPose 1.3's RTMO of the same size with the same
  weights (MMPose's state dict loads into the plugin with ``strict=True``);
- :func:`train_pipeline` / :func:`val_pipeline` and :func:`coco_batch`: real batches through
  RTMO's stage-2 pipeline without its random parts, or through the val pipeline (both read
  from the base config, ``configs/_base_/rtmo_coco-640x640.py``).
"""
from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Optional, Sequence, Tuple

from torch import nn

from ..build import PathLike, build_model, load_config, plugin_config_dir

# RTMO size -> (plugin config under the repository, MMPose's config of the same model)
SIZES = {
    's': ('configs/rtmo/coco/rtmo-s_8xb32-600e_coco-640x640.py',
          'body_2d_keypoint/rtmo/coco/rtmo-s_8xb32-600e_coco-640x640.py'),
    'm': ('configs/rtmo/coco/rtmo-m_16xb16-600e_coco-640x640.py',
          'body_2d_keypoint/rtmo/coco/rtmo-m_16xb16-600e_coco-640x640.py'),
    'l': ('configs/rtmo/coco/rtmo-l_16xb16-600e_coco-640x640.py',
          'body_2d_keypoint/rtmo/coco/rtmo-l_16xb16-600e_coco-640x640.py'),
    't': ('configs/rtmo/coco/rtmo-t_8xb32-600e_coco-416x416.py',
          'body_2d_keypoint/rtmo/body7/rtmo-t_8xb32-600e_body7-416x416.py'),
}


def mmpose_configs() -> Path:
    """The configs MMPose ships in its wheel (``mmpose/.mim/configs``)."""
    import mmpose
    return Path(mmpose.__file__).parent / '.mim' / 'configs'


def size_configs(size: str) -> Tuple[Path, Path]:
    """``(plugin config, MMPose config)`` of an RTMO size in :data:`SIZES`."""
    if size not in SIZES:
        raise ValueError(f'RTMO size {size!r}: choose from {sorted(SIZES)}')
    ours, ref = SIZES[size]
    return plugin_config_dir() / Path(ours).relative_to('configs'), mmpose_configs() / ref


def build_twins(size: str = 's', test_cfg: Optional[dict] = None,
                seed: int = 0) -> Tuple[nn.Module, nn.Module]:
    """``(plugin, mmpose)``: both RTMOs of ``size`` with MMPose's seeded random weights.

    Random batch resizing is off on both sides (it would differ); ``test_cfg`` entries
    override both configs' (e.g. ``score_thr=0`` to keep random-weight detections).
    """
    models = []
    for path in size_configs(size)[::-1]:  # MMPose's first: its weights are the reference
        cfg = load_config(path)
        cfg.model.data_preprocessor.batch_augments = None
        cfg.model.test_cfg.update(test_cfg or {})
        models.append(build_model(cfg, seed=seed))
    ref, plugin = models
    plugin.load_state_dict(ref.state_dict(), strict=True)
    return plugin, ref


def resize_bottomup(node, size: Tuple[int, int]):
    """A copy of a bottom-up config dict (or any node of it) with every ``input_size`` and
    ``img_scale`` set to ``size`` (pipelines, codec, test_cfg: one input size everywhere)."""
    if isinstance(node, dict):
        return {k: (tuple(size) if k in ('input_size', 'img_scale') else resize_bottomup(v, size))
                for k, v in node.items()}
    if isinstance(node, (list, tuple)) and not all(isinstance(v, (int, float)) for v in node):
        return type(node)(resize_bottomup(v, size) for v in node)
    return node


# RTMO's pipelines are written once, in the base config; the harness reads them from there
BASE_CONFIG = '_base_/rtmo_coco-640x640.py'
RANDOM_TRANSFORMS = ('YOLOXHSVRandomAug', 'RandomFlip')  # stage 2's random parts


@functools.cache
def _base_pipelines() -> dict:
    cfg = load_config(plugin_config_dir() / BASE_CONFIG)
    return {name: cfg[name] for name in ('train_pipeline_stage2', 'val_pipeline')}


def train_pipeline(input_size: Tuple[int, int], heatmap_mask: bool = True) -> list:
    """RTMO's stage-2 training pipeline (the base config's ``train_pipeline_stage2``) at
    ``input_size`` without its random parts (colour jitter, flip; its affine transform has
    every probability at 0): the same targets each call. ``heatmap_mask=False`` leaves out
    ``BottomupGetHeatmapMask``."""
    left_out = RANDOM_TRANSFORMS + (() if heatmap_mask else ('BottomupGetHeatmapMask',))
    steps = resize_bottomup(copy.deepcopy(_base_pipelines()['train_pipeline_stage2']), input_size)
    return [step for step in steps if step['type'] not in left_out]


def val_pipeline(input_size: Tuple[int, int]) -> list:
    """RTMO's val pipeline (letterbox to ``input_size``, centred): the base config's."""
    return resize_bottomup(copy.deepcopy(_base_pipelines()['val_pipeline']), input_size)


def coco_samples(data_root: PathLike, pipeline: list, ann_file: str = 'person_keypoints.json',
                 img_prefix: str = '', test_mode: bool = False) -> list:
    """Every sample of a bottom-up COCO-keypoints set through ``pipeline``."""
    from mmengine.registry import init_default_scope
    from mmpose.registry import DATASETS

    init_default_scope('mmpose')
    dataset = DATASETS.build(dict(
        type='CocoDataset', data_root=str(data_root), data_mode='bottomup', ann_file=ann_file,
        data_prefix=dict(img=img_prefix), test_mode=test_mode, pipeline=pipeline))
    return [dataset[i] for i in range(len(dataset))]


def coco_batch(data_root: PathLike, pipeline: list, indices: Sequence[int],
               **dataset_kwargs) -> dict:
    """The samples at ``indices`` of :func:`coco_samples`, collated into one batch."""
    from mmengine.dataset import pseudo_collate
    samples = coco_samples(data_root, pipeline, **dataset_kwargs)
    return pseudo_collate([samples[i] for i in indices])
