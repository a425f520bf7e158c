"""``CocoWholeBodyBottomupDataset``: the whole-body RTMO config's two training pipelines run
on COCO-WholeBody data, where MMPose's ``CocoWholeBodyDataset`` fails in the second stage."""
import copy

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS

import rtmo_plugin  # noqa: F401  (registers the dataset)
from helpers import REPO

CONFIG = REPO / 'configs/rtmo/wholebody/rtmo-m_16xb16-600e_coco-wholebody-640x640.py'


def dataset_cfg(shared_data, pipeline, dataset_type):
    cfg = Config.fromfile(str(CONFIG))
    dataset = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset.update(type=dataset_type, data_root=str(shared_data) + '/',
                   ann_file='coco-wholebody-mini/coco_wholebody.json',
                   data_prefix=dict(img='coco-mini/'), pipeline=cfg[pipeline])
    return dataset


def sample_with_people(dataset):
    """The first sample that keeps a person after the pipeline's random affine."""
    for index in range(len(dataset)):
        sample = dataset[index]
        if len(sample['data_samples'].gt_instances.bboxes):
            return sample
    raise AssertionError('no sample kept a person')


@pytest.mark.parametrize('pipeline', ['train_pipeline_stage1', 'train_pipeline_stage2'])
def test_both_training_pipelines_run_on_coco_wholebody(shared_data, pipeline):
    init_default_scope('mmpose')
    dataset = DATASETS.build(dataset_cfg(shared_data, pipeline, 'CocoWholeBodyBottomupDataset'))
    assert isinstance(dataset.get_data_info(0)['category_id'], np.ndarray)
    instances = sample_with_people(dataset)['data_samples'].gt_instances
    assert instances.keypoints.shape[1:] == (133, 2)
    assert len(instances.bboxes) == len(instances.keypoints)


def test_mmposes_dataset_fails_there_and_is_otherwise_the_same(shared_data):
    """The reason for the subclass; if MMPose fixes it, this fails and the subclass can go."""
    init_default_scope('mmpose')
    ours = DATASETS.build(dataset_cfg(shared_data, 'train_pipeline_stage2',
                                      'CocoWholeBodyBottomupDataset'))
    theirs = DATASETS.build(dataset_cfg(shared_data, 'train_pipeline_stage2',
                                        'CocoWholeBodyDataset'))
    with pytest.raises(TypeError, match='scalar index'):
        theirs[0]
    for index in range(len(ours)):
        mine, other = ours.get_data_info(index), theirs.get_data_info(index)
        assert mine.keys() == other.keys()
        for key in mine:
            if key == 'category_id':
                assert list(mine[key]) == list(other[key])
            elif isinstance(mine[key], np.ndarray):
                assert np.array_equal(mine[key], other[key]), key
