"""Every config of the project builds, trains one iteration and tests one iteration on
tiny data (the real coco-mini photographs, with masks, or synthetic people)."""
from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
from mask_rcnn_gcm_fixtures import PROJECT, tiny_coco
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

CONFIGS = sorted(p.relative_to(PROJECT / 'configs')
                 for p in (PROJECT / 'configs').rglob('*.py') if '_base_' not in p.parts)
TINY = [p for p in CONFIGS if p.parts[0] == 'tiny']
PAPER = [p for p in CONFIGS if p.parts[0] != 'tiny']


def _small_images(pipeline: list, side: int) -> list:
    """The config's pipeline with every resize at ``side`` pixels (the rest kept)."""
    out = []
    for step in pipeline:
        if step['type'] in ('RandomChoiceResize', 'ResizeWithKeypoints'):
            step = dict(type='ResizeWithKeypoints', scale=(side, side), keep_ratio=True)
        out.append(step)
    return out


def one_iteration_config(path: Path, data, work_dir: Path, side: int) -> Config:
    """The config on ``data``: one training image, one test batch of all images, no
    downloads; at most 16 sampled RoIs and 3 detections per image (the full-size heads
    cost seconds per RoI on a CPU)."""
    cfg = Config.fromfile(str(PROJECT / 'configs' / path))
    cfg = copy.deepcopy(cfg)
    cfg.model.backbone.init_cfg = None
    cfg.model.train_cfg.rcnn.sampler.num = 16
    cfg.model.test_cfg.rcnn.max_per_img = 3
    cfg.work_dir = str(work_dir)
    for key, count in (('train_dataloader', 1), ('test_dataloader', 4)):
        cfg[key].update(num_workers=0, persistent_workers=False, batch_size=count)
        cfg[key].dataset.update(data_root=str(data.root), ann_file=data.ann_file,
                                data_prefix=dict(img=data.img_prefix),
                                pipeline=_small_images(cfg[key].dataset.pipeline, side))
    cfg.train_dataloader.dataset.indices = 1
    for evaluator in cfg.test_evaluator:
        evaluator.ann_file = data.ann_path
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_interval=100)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    return cfg


def run(path: Path, tmp_path: Path, side: int) -> dict:
    data = tiny_coco(tmp_path / 'data')
    init_default_scope('mmdet')
    runner = Runner.from_cfg(one_iteration_config(path, data, tmp_path / 'work', side))
    runner.train()
    assert runner.iter == 1
    metrics = runner.test()
    for key in ('coco/AP', 'coco/bbox_mAP', 'coco/segm_mAP'):
        assert key in metrics and 0.0 <= metrics[key] <= 1.0 and math.isfinite(metrics[key])
    return metrics


def test_every_config_is_collected():
    names = {p.name for p in CONFIGS}
    assert {'kpt-mask-rcnn_r50-fpn-3x_coco.py', 'kpt-mask-rcnn-gcm_r50-fpn-3x_coco.py',
            'kpt-mask-rcnn_r101-fpn-3x_coco.py', 'kpt-mask-rcnn-gcm_r101-fpn-3x_coco.py',
            'kpt-mask-rcnn_tiny_synthetic-160.py',
            'kpt-mask-rcnn-gcm_tiny_synthetic-160.py'} <= names


def test_paper_model_is_a_delta_of_the_baseline():
    base = Config.fromfile(str(PROJECT / 'configs/kpt-mask-rcnn_r50-fpn-3x_coco.py'))
    gcm = Config.fromfile(str(PROJECT / 'configs/kpt-mask-rcnn-gcm_r50-fpn-3x_coco.py'))
    assert base.model.roi_head.keypoint_roi_extractor.featmap_strides == [4, 8, 16, 32]
    assert gcm.model.roi_head.keypoint_roi_extractor.featmap_strides == [4]
    assert (base.model.roi_head.keypoint_box_scale, gcm.model.roi_head.keypoint_box_scale) \
        == (1.0, 1.3)
    assert 'context' not in base.model.roi_head.keypoint_head
    assert (base.model.roi_head.keypoint_head.stem, gcm.model.roi_head.keypoint_head.stem) \
        == (False, True)                     # the paper's baseline: the stock head
    assert gcm.model.roi_head.keypoint_head.context.type == 'GlobalContextModule'
    base.model.roi_head.pop('keypoint_head'), gcm.model.roi_head.pop('keypoint_head')
    for cfg in (base, gcm):
        cfg.model.roi_head.pop('keypoint_box_scale')
        cfg.model.roi_head.pop('keypoint_roi_extractor')
    assert base.model.to_dict() == gcm.model.to_dict()


def model_state(path: str) -> dict:
    """``{key: shape}`` of the model of a config (random init, no downloads)."""
    from mmdet.registry import MODELS
    cfg = Config.fromfile(str(PROJECT / 'configs' / path))
    cfg.model.backbone.init_cfg = None
    init_default_scope('mmdet')
    return {k: tuple(v.shape) for k, v in MODELS.build(cfg.model).state_dict().items()}


@pytest.mark.parametrize('without, with_gcm', [
    ('tiny/kpt-mask-rcnn_tiny_synthetic-160.py', 'tiny/kpt-mask-rcnn-gcm_tiny_synthetic-160.py'),
    ('kpt-mask-rcnn-refined_r50-fpn-3x_coco.py', 'kpt-mask-rcnn-gcm_r50-fpn-3x_coco.py')],
    ids=['tiny', 'r50-refined'])
def test_models_with_and_without_the_gcm_differ_by_its_parameters_only(without, with_gcm):
    base, gcm = model_state(without), model_state(with_gcm)
    extra = sorted(set(gcm) - set(base))
    assert set(base) <= set(gcm), sorted(set(base) - set(gcm))
    assert extra and all(k.startswith('roi_head.keypoint_head.contexts.') for k in extra), extra
    assert {k: gcm[k] for k in base} == base
    assert 'roi_head.keypoint_head.stem.0.weight' in base      # the 1x1 stem is in both


@pytest.mark.parametrize('path', TINY, ids=lambda p: p.stem)
def test_tiny_config_trains_and_tests_one_iteration(path, tmp_path):
    run(path, tmp_path, side=160)


@pytest.mark.slow
@pytest.mark.parametrize('path', PAPER, ids=lambda p: p.stem)
def test_paper_config_trains_and_tests_one_iteration(path, tmp_path):
    run(path, tmp_path, side=256)
