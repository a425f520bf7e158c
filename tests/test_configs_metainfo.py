"""The dataset metainfo is the one source of the keypoints; any mismatch fails early."""
import copy
from pathlib import Path

import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmpose.registry import DATASETS, MODELS

from helpers import REPO, load_config
from rtmo_plugin.metainfo import check_dataset, load_metainfo
from tiny_runs import make_tiny_data, tiny_config

COCO = 'configs/_base_/datasets/coco.py'
CROWDPOSE = 'configs/_base_/datasets/crowdpose.py'
MY_KEYPOINTS = str(REPO / 'configs/rtmo/custom/my_keypoints_metainfo.py')


@pytest.fixture(scope='module')
def tiny_data(coco_mini, tmp_path_factory) -> dict:
    return make_tiny_data(coco_mini.parent, tmp_path_factory.mktemp('tiny_data'))


def head_cfg(**changes) -> dict:
    cfg = copy.deepcopy(load_config('configs/rtmo/coco/rtmo-s_8xb32-600e_coco-640x640.py')
                        .model.head.to_dict())
    cfg.update(changes)
    return cfg


def build_head(**changes):
    init_default_scope('mmpose')
    return MODELS.build(head_cfg(**changes))


def dataset(ann_file: str, images: str, metainfo: str, type='CocoDataset', **kwargs):
    init_default_scope('mmpose')
    return DATASETS.build(dict(type=type, data_root='', ann_file=ann_file, data_mode='bottomup',
                               data_prefix=dict(img=images), metainfo=dict(from_file=metainfo),
                               **kwargs))


def test_head_reads_count_and_sigmas_from_the_metainfo():
    head = build_head(metainfo=CROWDPOSE)
    sigmas = torch.as_tensor(load_metainfo(CROWDPOSE)['sigmas'])
    assert head.num_keypoints == 14
    assert head.head_module.out_kpt_vis[0].out_channels == 14
    torch.testing.assert_close(head.assigner.oks_calculator.sigmas, sigmas)
    torch.testing.assert_close(head.loss_oks.sigmas, sigmas)


def test_custom_metainfo_file_by_absolute_path():
    head = build_head(metainfo=MY_KEYPOINTS)
    assert head.num_keypoints == 7
    assert len(head.loss_oks.sigmas) == 7


def test_head_count_against_metainfo():
    with pytest.raises(ValueError, match=r'model\.head\.num_keypoints=17 but model\.head\.metainfo '
                       r'\(configs/_base_/datasets/crowdpose\.py\) has 14 keypoints'):
        build_head(metainfo=CROWDPOSE, num_keypoints=17)


def test_assigner_metainfo_against_head_metainfo():
    cfg = head_cfg(metainfo=CROWDPOSE)
    cfg['assigner']['oks_calculator']['metainfo'] = COCO
    init_default_scope('mmpose')
    with pytest.raises(ValueError, match=r'model\.head\.assigner\.oks_calculator\.metainfo '
                       r'\(configs/_base_/datasets/coco\.py\) has 17 keypoints but '
                       r'model\.head\.metainfo .* with 14 keypoints'):
        MODELS.build(cfg)


def test_mmpose_style_count_without_metainfo_meets_pose_oks_default():
    """MMPose #2920 family: 14 keypoints in the head but PoseOKS left on COCO's file."""
    cfg = head_cfg(metainfo=None, num_keypoints=14)
    init_default_scope('mmpose')
    with pytest.raises(ValueError, match=r'oks_calculator\.metainfo \(configs/_base_/datasets/'
                       r'coco\.py\) has 17 keypoints but model\.head\.num_keypoints=14'):
        MODELS.build(cfg)


def test_dataset_metainfo_against_head(tiny_data):
    ds = dataset(tiny_data['CrowdPoseDataset'], tiny_data['images'], CROWDPOSE,
                 type='CrowdPoseDataset')
    with pytest.raises(ValueError, match=r"model\.head\.num_keypoints=17 but the dataset metainfo "
                       r"of train_dataloader\.dataset \(dataset_name 'crowdpose'\) has 14"):
        check_dataset(ds, build_head(), 'train_dataloader.dataset')
    check_dataset(ds, build_head(metainfo=CROWDPOSE), 'train_dataloader.dataset')  # agrees


def test_annotations_against_dataset_metainfo(tiny_data):
    ds = dataset(tiny_data['CocoDataset'], tiny_data['images'], CROWDPOSE)
    with pytest.raises(ValueError, match=r'annotations of val_dataloader\.dataset \(.*person_'
                       r'keypoints\.json\) have 17 keypoints per person but its metainfo '
                       r"\(dataset_name 'crowdpose'\) has 14"):
        check_dataset(ds, build_head(metainfo=CROWDPOSE), 'val_dataloader.dataset')


def test_sigmas_of_dataset_against_head(tiny_data, tmp_path):
    other = tmp_path / 'other_sigmas.py'
    other.write_text(Path(MY_KEYPOINTS).read_text().replace('0.026', '0.5'))
    ds = dataset(tiny_data['custom'], tiny_data['images'], str(other))
    with pytest.raises(ValueError, match='OKS sigmas of model.head'):
        check_dataset(ds, build_head(metainfo=MY_KEYPOINTS), 'train_dataloader.dataset')


def test_converter_count_in_combined_dataset(tiny_data):
    init_default_scope('mmpose')
    combined = DATASETS.build(dict(
        type='CombinedDataset', metainfo=dict(from_file=COCO), datasets=[dict(
            type='CrowdPoseDataset', data_root='', data_mode='bottomup',
            ann_file=tiny_data['CrowdPoseDataset'], data_prefix=dict(img=tiny_data['images']),
            pipeline=[dict(type='KeypointConverter', num_keypoints=14,
                           mapping=[(i, i) for i in range(14)])])]))
    with pytest.raises(ValueError, match='KeypointConverter in train_dataloader.dataset .* maps '
                       'to 14 keypoints but train_dataloader.dataset'):
        check_dataset(combined, build_head(), 'train_dataloader.dataset')


def test_runner_fails_before_the_first_iteration(tiny_data, tmp_path):
    cfg = load_config('configs/rtmo/crowdpose/rtmo-s_8xb32-700e_crowdpose-640x640.py')
    cfg.model.head.metainfo = COCO  # the head forgot the switch to CrowdPose
    runner = Runner.from_cfg(tiny_config(cfg, tiny_data, tmp_path))
    with pytest.raises(ValueError, match=r'model\.head\.num_keypoints=17 but the dataset metainfo '
                       r'of train_dataloader\.dataset'):
        runner.train()
    assert runner.iter == 0
