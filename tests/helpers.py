"""Builders shared by the model tests: configs, models without downloads, real batches."""
from pathlib import Path

import mmpose
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS, MODELS

import rtmo_plugin  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
MMPOSE_CONFIGS = Path(mmpose.__file__).parent / '.mim' / 'configs'
SIZES = {  # plugin config -> MMPose's config of the same model
    's': ('configs/rtmo/coco/rtmo-s_8xb32-600e_coco-640x640.py',
          'body_2d_keypoint/rtmo/coco/rtmo-s_8xb32-600e_coco-640x640.py'),
    'm': ('configs/rtmo/coco/rtmo-m_16xb16-600e_coco-640x640.py',
          'body_2d_keypoint/rtmo/coco/rtmo-m_16xb16-600e_coco-640x640.py'),
    'l': ('configs/rtmo/coco/rtmo-l_16xb16-600e_coco-640x640.py',
          'body_2d_keypoint/rtmo/coco/rtmo-l_16xb16-600e_coco-640x640.py'),
    't': ('configs/rtmo/coco/rtmo-t_8xb32-600e_coco-416x416.py',
          'body_2d_keypoint/rtmo/body7/rtmo-t_8xb32-600e_body7-416x416.py'),
}


def load_config(path) -> Config:
    path = Path(path)
    return Config.fromfile(str(path if path.is_absolute() else REPO / path))


def build_model(cfg: Config, seed: int = 0):
    """Builds ``cfg.model`` on CPU without the pretrained backbone download."""
    init_default_scope('mmpose')
    model_cfg = cfg.model.copy()
    model_cfg.backbone.init_cfg = None
    torch.manual_seed(seed)
    model = MODELS.build(model_cfg)
    model.init_weights()
    return model


def real_batch(coco_dir: Path, input_size=(320, 320), num_images=2, heatmap_mask=True):
    """Training batch of real COCO images through a deterministic RTMO pipeline."""
    init_default_scope('mmpose')
    pipeline = [
        dict(type='LoadImage'),
        dict(type='BottomupRandomAffine', input_size=input_size, shift_prob=0, rotate_prob=0,
             scale_prob=0, scale_type='long', pad_val=(114, 114, 114), bbox_keep_corner=False,
             clip_border=True),
        *([dict(type='BottomupGetHeatmapMask', get_invalid=True)] if heatmap_mask else []),
        dict(type='FilterAnnotations', by_kpt=True, by_box=True, keep_empty=False),
        dict(type='GenerateTarget',
             encoder=dict(type='YOLOXPoseAnnotationProcessor', input_size=input_size)),
        dict(type='PackPoseInputs'),
    ]
    dataset = DATASETS.build(dict(
        type='CocoDataset', data_root=str(coco_dir), data_mode='bottomup',
        ann_file='person_keypoints.json', data_prefix=dict(img=''), pipeline=pipeline))
    return pseudo_collate([dataset[i] for i in range(num_images)])


def val_batch(coco_dir: Path, input_size=(320, 320), num_images=2):
    """Test batch of real COCO images through the RTMO val pipeline of our base config."""
    init_default_scope('mmpose')
    pipeline = load_config(SIZES['s'][0]).val_pipeline
    for transform in pipeline:
        if 'input_size' in transform:
            transform['input_size'] = input_size
    dataset = DATASETS.build(dict(
        type='CocoDataset', data_root=str(coco_dir), data_mode='bottomup',
        ann_file='person_keypoints.json', data_prefix=dict(img=''), test_mode=True,
        pipeline=pipeline))
    return pseudo_collate([dataset[i] for i in range(num_images)])
