"""The plugin's guards in this project: non-finite steps skipped, data checked before
iteration 1 with file, image id, annotation id and field named, load_from checked."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from mask_rcnn_gcm_fixtures import PROJECT
from mmdet.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from test_mask_rcnn_gcm_configs import CONFIGS, one_iteration_config

import projects.mask_rcnn_gcm.mask_rcnn_gcm  # noqa: F401  (registers the dataset, hooks)
from rtmo_plugin.checkpoint import CheckpointMismatchError
from rtmo_plugin.data_checks import DataCheckError
from rtmo_plugin.synthetic import write_split

TINY = 'tiny/kpt-mask-rcnn_tiny_synthetic-160.py'
TINY_GCM = 'tiny/kpt-mask-rcnn-gcm_tiny_synthetic-160.py'
LOAD_WITH_MASKS = [dict(type='LoadImageFromFile'),
                   dict(type='LoadAnnotationsWithKeypoints', with_bbox=True, with_mask=True)]


class SyntheticSet:
    """Four synthetic 160-pixel images with masks, written into ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ann = write_split(root, 'train', 4, 160, seed=3, masks=True)
        self.ann_path = str(self.ann)           # the fields one_iteration_config reads
        self.ann_file = str(self.ann.relative_to(root))
        self.img_prefix = 'train/'
        self.coco = json.loads(self.ann.read_text())

    def edit(self, change) -> None:
        """Applies ``change(coco_dict)`` to the annotation file."""
        change(self.coco)
        self.ann.write_text(json.dumps(self.coco))

    def dataset(self, pipeline=()):
        init_default_scope('mmdet')
        return DATASETS.build(dict(
            type='CocoPersonKeypointDataset', data_root=str(self.root),
            ann_file=self.ann_file, data_prefix=dict(img=self.img_prefix),
            pipeline=list(pipeline), filter_cfg=None))


@pytest.fixture
def data(tmp_path) -> SyntheticSet:
    return SyntheticSet(tmp_path / 'data')


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_every_config_has_the_guards(path):
    cfg = Config.fromfile(str(PROJECT / 'configs' / path))
    assert cfg.optim_wrapper.type == 'FiniteOptimWrapper'
    hooks = {hook.type for hook in cfg.default_hooks.values() if hook}
    assert {'NonFiniteLossHook', 'DetKeypointDataCheckHook', 'CheckedLoadFromHook'} <= hooks
    assert cfg.default_hooks.load_check.partial is False


def test_non_finite_loss_leaves_the_weights_unchanged():
    cfg = Config.fromfile(str(PROJECT / 'configs' / TINY))
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    params = [p for p in model.parameters() if p.requires_grad]
    loss = sum(p.sum() for p in params) * float('nan')
    wrapper.update_params(loss)
    assert wrapper.skipped_steps == 1
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_amp_wrappers_are_found_in_the_projects_scope():
    """``tools/train.py --amp`` swaps in the AMP twin (GPU) or bf16 autocast (CPU): mmdet's
    scope must find both; the CPU one builds and trains here."""
    from mmdet.registry import OPTIM_WRAPPERS
    assert OPTIM_WRAPPERS.get('FiniteAmpOptimWrapper') is not None
    cfg = Config.fromfile(str(PROJECT / 'configs' / TINY))
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    built = build_optim_wrapper(model, dict(cfg.optim_wrapper, type='FiniteBf16OptimWrapper'))
    assert type(built).__name__ == 'FiniteBf16OptimWrapper'


def test_annotation_without_segmentation_is_named_before_training(data):
    victim = data.coco['annotations'][1]
    data.edit(lambda coco: coco['annotations'][1].pop('segmentation'))
    image = next(i for i in data.coco['images'] if i['id'] == victim['image_id'])
    with pytest.raises(DataCheckError) as error:
        data.dataset(LOAD_WITH_MASKS)
    message = str(error.value)
    for part in (data.ann_file, image['file_name'], f'image id {image["id"]}',
                 f'annotation id {victim["id"]}', "'segmentation'", 'with_mask=False'):
        assert part in message, (part, message)
    assert len(data.dataset()) == 4     # boxes and keypoints alone need no masks


def test_bad_keypoints_become_unlabelled_and_a_bad_box_is_dropped(data):
    width = data.coco['images'][0]['width']

    def poison(coco):
        anns = [a for a in coco['annotations'] if a['image_id'] == coco['images'][0]['id']]
        anns[0]['keypoints'][0:3] = [float('nan'), 10.0, 2]      # keypoint 0: NaN x
        anns[0]['keypoints'][3:6] = [width + 50.0, 10.0, 2]      # keypoint 1: off the frame
        anns[0]['keypoints'][6:9] = [12.0, 14.0, 2]              # keypoint 2: fine
        if len(anns) > 1:
            anns[1]['bbox'][2] = float('inf')
    data.edit(poison)
    first = data.coco['images'][0]
    anns = [a for a in data.coco['annotations'] if a['image_id'] == first['id']]
    dataset = data.dataset()
    info = next(dataset.get_data_info(i) for i in range(len(dataset))
                if dataset.get_data_info(i)['img_id'] == first['id'])
    person = next(inst for inst in info['instances']
                  if inst['bbox'][0] == pytest.approx(anns[0]['bbox'][0]))
    assert person['keypoints_visible'][:3].tolist() == [0.0, 0.0, 1.0]
    assert all(math.isfinite(v) for v in person['keypoints'].reshape(-1))
    assert person['keypoints'][2].tolist() == [12.0, 14.0]
    where = f'image id {first["id"]}) annotation id {anns[0]["id"]}'
    assert any(where in line and '[0]' in line and 'not finite' in line
               for line in dataset.changes), dataset.changes
    assert any(where in line and '[1]' in line and 'outside' in line
               for line in dataset.changes), dataset.changes
    if len(anns) > 1:
        assert len(info['instances']) == len(anns) - 1
        assert any(f'annotation id {anns[1]["id"]}' in line and "'bbox'" in line
                   for line in dataset.changes)


def test_malformed_keypoints_are_named(data):
    data.edit(lambda coco: coco['annotations'][0].update(keypoints=['x'] * 51))
    with pytest.raises(DataCheckError, match=r"annotation id .*field 'keypoints' must be 51"):
        data.dataset()


def test_missing_truncated_and_resized_images_are_named(data):
    infos = sorted(data.coco['images'], key=lambda i: i['id'])
    folder = data.root / data.img_prefix
    (folder / infos[0]['file_name']).unlink()
    jpeg = (folder / infos[1]['file_name']).read_bytes()
    (folder / infos[1]['file_name']).write_bytes(jpeg[:len(jpeg) // 2])
    data.edit(lambda coco: next(i for i in coco['images'] if i['id'] == infos[2]['id'])
              .update(width=infos[2]['width'] + 7))
    dataset = data.dataset()
    from projects.mask_rcnn_gcm.mask_rcnn_gcm.engine import DetKeypointDataCheckHook
    with pytest.raises(DataCheckError) as error:
        DetKeypointDataCheckHook()._check(dataset, 'train_dataloader')
    message = str(error.value)
    assert 'train_dataloader: 3 image files' in message
    for info, why in zip(infos, ('missing', 'truncated JPEG', 'the file is')):
        assert f'{info["file_name"]} (image id {info["id"]}): {why}' in message, message


def train_runner(data, tmp_path, load_from, **hooks):
    cfg = one_iteration_config(Path(TINY), data, tmp_path / 'work', side=160)
    cfg.default_hooks.update(hooks)
    cfg.load_from = str(load_from)
    init_default_scope('mmdet')
    return Runner.from_cfg(cfg)


def test_load_from_another_architecture_is_refused_before_training(data, tmp_path):
    other = tmp_path / 'gcm.pth'
    cfg = Config.fromfile(str(PROJECT / 'configs' / TINY_GCM))
    init_default_scope('mmdet')
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()), other)
    runner = train_runner(data, tmp_path, other)
    with pytest.raises(CheckpointMismatchError) as error:
        runner.train()
    message = str(error.value)
    assert f'load_from {other}' in message and 'roi_head.keypoint_head.contexts.' in message
    assert 'default_hooks.load_check.partial=True' in message
    assert runner.iter == 0


@pytest.mark.slow
def test_load_from_another_architecture_with_the_opt_in_fine_tunes(data, tmp_path):
    other = tmp_path / 'gcm.pth'
    cfg = Config.fromfile(str(PROJECT / 'configs' / TINY_GCM))
    init_default_scope('mmdet')
    gcm = MODELS.build(cfg.model)
    torch.save(dict(state_dict=gcm.state_dict()), other)
    runner = train_runner(data, tmp_path, other,
                          load_check=dict(type='CheckedLoadFromHook', partial=True))
    runner.train()
    assert runner.iter == 1
