"""Keypoints through mmdet's pipeline: dataset, resize, flip with left/right swap, packing."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from mask_rcnn_gcm_fixtures import tiny_coco
from mmdet.registry import DATASETS, TRANSFORMS
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.registry import init_default_scope
from mmpose.datasets.datasets.utils import parse_pose_metainfo

import projects.mask_rcnn_gcm.mask_rcnn_gcm  # noqa: F401

COCO = parse_pose_metainfo(dict(from_file='configs/_base_/datasets/coco.py'))
NAMES = [COCO['keypoint_id2name'][i] for i in range(17)]
PIPELINE = [dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotationsWithKeypoints', with_bbox=True, with_mask=True),
            dict(type='ResizeWithKeypoints', scale=(200, 200), keep_ratio=True),
            dict(type='PackDetKeypointInputs')]


def build_dataset(data, pipeline):
    init_default_scope('mmdet')
    return DATASETS.build(dict(type='CocoPersonKeypointDataset', data_root=str(data.root),
                               ann_file=data.ann_file, data_prefix=dict(img=data.img_prefix),
                               pipeline=pipeline, filter_cfg=None))


def test_dataset_keeps_each_instances_keypoints(tmp_path):
    data = tiny_coco(tmp_path)
    dataset = build_dataset(data, [])
    coco = json.loads(Path(data.ann_path).read_text())
    anns = {ann['bbox'][0]: ann for ann in coco['annotations']}
    total = 0
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        assert list(info['flip_indices']) == COCO['flip_indices']
        for inst in info['instances']:
            ann = anns[inst['bbox'][0]]                    # matched by the box's x
            raw = np.asarray(ann['keypoints'], np.float32).reshape(17, 3)
            np.testing.assert_array_equal(inst['keypoints'], raw[:, :2])
            np.testing.assert_array_equal(inst['keypoints_visible'], raw[:, 2] > 0)
            total += 1
    assert total >= 4 and dataset.metainfo['num_keypoints'] == 17
    assert len(dataset.metainfo['sigmas']) == 17


def test_resize_and_pack_carry_keypoints(tmp_path):
    data = tiny_coco(tmp_path)
    raw = build_dataset(data, PIPELINE[:2])[0]
    packed = build_dataset(data, PIPELINE)[0]
    gt = packed['data_samples'].gt_instances
    scale = np.asarray(packed['data_samples'].scale_factor, np.float32)
    keep = raw['gt_ignore_flags'] == 0
    assert len(gt) == keep.sum() and gt.keypoints.shape == (len(gt), 17, 2)
    torch.testing.assert_close(gt.keypoints, torch.from_numpy(raw['gt_keypoints'][keep] * scale))
    torch.testing.assert_close(gt.keypoints_visible,
                               torch.from_numpy(raw['gt_keypoints_visible'][keep]))
    assert max(packed['inputs'].shape[1:]) == 200


def test_flip_swaps_left_and_right_keypoints():
    init_default_scope('mmdet')
    flip = TRANSFORMS.build(dict(type='RandomFlipWithKeypoints', prob=1.0))
    keypoints = np.stack([np.arange(17) * 3.0 + 1, np.arange(17) * 2.0], -1)[None]
    visible = (np.arange(17) % 3 > 0).astype(np.float32)[None]
    results = flip(dict(img=np.zeros((60, 100, 3), np.uint8), img_shape=(60, 100),
                        gt_bboxes=HorizontalBoxes(np.array([[1.0, 0, 50, 40]], np.float32)),
                        gt_keypoints=keypoints, gt_keypoints_visible=visible,
                        flip_indices=COCO['flip_indices']))
    for k, name in enumerate(NAMES):
        mirror = NAMES.index(name.replace('left', 'tmp').replace('right', 'left')
                             .replace('tmp', 'right'))
        assert results['gt_keypoints'][0, k].tolist() == [100 - keypoints[0, mirror, 0],
                                                          keypoints[0, mirror, 1]]
        assert results['gt_keypoints_visible'][0, k] == visible[0, mirror]
    assert NAMES.index('left_wrist') != NAMES.index('right_wrist')
    assert results['gt_bboxes'].tensor.tolist() == [[50.0, 0.0, 99.0, 40.0]]


def test_flip_needs_flip_indices_and_is_horizontal_only():
    init_default_scope('mmdet')
    with pytest.raises(ValueError, match='horizontal'):
        TRANSFORMS.build(dict(type='RandomFlipWithKeypoints', prob=1.0, direction='vertical'))
    flip = TRANSFORMS.build(dict(type='RandomFlipWithKeypoints', prob=1.0))
    with pytest.raises(KeyError, match='CocoPersonKeypointDataset'):
        flip(dict(img=np.zeros((8, 8, 3), np.uint8), img_shape=(8, 8),
                  gt_keypoints=np.zeros((1, 17, 2)), gt_keypoints_visible=np.zeros((1, 17))))
