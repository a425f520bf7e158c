"""Configs and models without downloads.

- :func:`load_config`: ``Config.fromfile`` that finds ``configs/...`` from anywhere in a clone;
- :func:`build_model`: a model from a config (a path or ``Config``), seeded random weights or
  a checked checkpoint, never downloading pretrained backbones.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional, Union

import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]
PathLike = Union[str, Path]

def plugin_config_dir() -> Path:
    """The plugin's configs: the clone's ``configs/``, or the installed ``.mim/configs``."""
    clone = REPO / 'configs'
    return clone if clone.is_dir() else Path(__file__).parent / '.mim' / 'configs'

def load_config(path: PathLike):
    """``Config.fromfile``; a relative path is taken from the working directory, else from
    the repository root (``configs/...`` works from anywhere)."""
    from mmengine.config import Config

    import rtmo_plugin  # noqa: F401  (the rtmo_plugin:: scope of inherited configs)
    given = Path(path)
    places = [given] if given.is_absolute() else [Path.cwd() / given, REPO / given]
    found = next((p for p in places if p.is_file()), None)
    if found is None:
        raise FileNotFoundError(f'config {path} not found (looked for '
                                + ' and '.join(str(p) for p in places) + ')')
    return Config.fromfile(str(found))

def build_model(config, checkpoint: Optional[PathLike] = None, seed: int = 0,
                device: str = 'cpu', partial: bool = False) -> nn.Module:
    """The model of ``config`` (a path or ``Config``) with checkpoint or seeded random weights.

    The backbone's pretrained ``init_cfg`` is dropped (nothing is downloaded); without a
    checkpoint the config's own initialisation runs (finite boxes, scores near the prior).
    A checkpoint that does not fit the model (another keypoint set, another size) raises
    :class:`rtmo_plugin.checkpoint.CheckpointMismatchError` naming the keys, unless
    ``partial=True`` (then only the matching tensors load, and the rest is listed).
    The model is returned in train mode, as ``MODELS.build`` leaves it.
    """
    from mmengine.config import Config
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    import rtmo_plugin  # noqa: F401  (registers the head and codec)

    from .checkpoint import load_checked

    cfg = load_config(config) if not isinstance(config, Config) else config
    model_cfg = cfg.model.copy()
    if model_cfg.get('backbone', {}).get('init_cfg') is not None:
        model_cfg.backbone.init_cfg = None
    if checkpoint is not None and not Path(checkpoint).is_file():
        raise FileNotFoundError(f'checkpoint {checkpoint} not found (omit it for random weights)')
    init_default_scope('mmpose')
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # init_weights logs every parameter
    try:
        torch.manual_seed(seed)
        model = MODELS.build(model_cfg)
        model.init_weights()
        meta = {}
        if checkpoint is not None:
            meta = load_checked(model, checkpoint, partial=partial).get('meta', {})
    finally:
        logger.setLevel(level)
    # what mmpose.apis.inference_* read, as mmpose.apis.init_model sets them
    model.cfg = cfg
    model.dataset_meta = meta.get('dataset_meta') or _dataset_meta(cfg)
    return model.to(device)

def _dataset_meta(cfg) -> Optional[dict]:
    from mmpose.apis.inference import dataset_meta_from_config
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    return (dataset_meta_from_config(cfg, 'test')
            or parse_pose_metainfo(dict(from_file='configs/_base_/datasets/coco.py')))

