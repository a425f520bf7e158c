"""The synthetic COCO-keypoints generator: deterministic, valid COCO, usable by MMPose."""
import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from mmpose.datasets import CocoDataset

from rtmo_plugin.synthetic import VERSION, main, make_image, random_pose


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp('synthetic')
    main([str(out), '--train', '12', '--val', '3', '--size', '128', '--seed', '5'])
    return out


def test_layout_and_counts(dataset):
    train = json.loads((dataset / 'annotations/person_keypoints_train.json').read_text())
    val = json.loads((dataset / 'annotations/person_keypoints_val.json').read_text())
    assert len(train['images']) == 12 and len(val['images']) == 3
    assert len(list((dataset / 'train').glob('*.jpg'))) == 12
    assert train['categories'][0]['keypoints'][0] == 'nose'
    assert len(train['categories'][0]['keypoints']) == 17


def test_annotations_are_valid_coco(dataset):
    train = json.loads((dataset / 'annotations/person_keypoints_train.json').read_text())
    assert len(train['annotations']) >= 12  # 1-3 people in 90 % of the images
    ids = [a['id'] for a in train['annotations']]
    assert len(set(ids)) == len(ids)
    for ann in train['annotations']:
        kpts = np.array(ann['keypoints']).reshape(17, 3)
        assert set(kpts[:, 2]) <= {0, 1, 2}
        assert ann['num_keypoints'] == int((kpts[:, 2] > 0).sum()) > 0
        assert (kpts[kpts[:, 2] == 0, :2] == 0).all()
        labelled = kpts[kpts[:, 2] > 0, :2]
        assert ((labelled >= 0) & (labelled < 128)).all()
        x, y, w, h = ann['bbox']
        assert min(x, y) >= 0 and x + w <= 128 and y + h <= 128 and w > 0 and h > 0
        assert 0 < ann['area'] <= w * h and ann['iscrowd'] == 0


def test_deterministic_for_a_seed():
    a_img, a_anns = make_image(np.random.default_rng(3), 96)
    b_img, b_anns = make_image(np.random.default_rng(3), 96)
    c_img, _ = make_image(np.random.default_rng(4), 96)
    assert np.array_equal(a_img, b_img) and a_anns == b_anns
    assert not np.array_equal(a_img, c_img)


def test_labels_are_frozen_for_this_version():
    """The demo caches a generated dataset by VERSION: labels that change without a bump
    would train on a stale cache. Change the digest only together with VERSION."""
    rng = np.random.default_rng(0)
    anns = [make_image(rng, 128)[1] for _ in range(6)]
    digest = hashlib.sha256(json.dumps(anns, sort_keys=True).encode()).hexdigest()[:16]
    assert (VERSION, sum(map(len, anns)), digest) == (5, 11, '1e44b8d4f83a9b3c')


def test_occlusion_and_empty_images_occur():
    rng = np.random.default_rng(0)
    flags, people = [], []
    for _ in range(40):
        _, anns = make_image(rng, 128)
        people.append(len(anns))
        flags += [v for a in anns for v in a['keypoints'][2::3]]
    assert 0 in people and max(people) >= 3
    assert {0, 1, 2} <= set(flags)  # outside the image, occluded, visible


def test_mmpose_reads_it(dataset):
    ds = CocoDataset(data_root=str(dataset), ann_file='annotations/person_keypoints_train.json',
                     data_prefix=dict(img='train/'), data_mode='bottomup', test_mode=True,
                     pipeline=[])
    assert len(ds) > 0 and ds[0]['keypoints'].shape[1:] == (17, 2)


def test_cli_help_prints_usage_and_no_warning():
    proc = subprocess.run([sys.executable, '-m', 'rtmo_plugin.synthetic', '--help'],
                          capture_output=True, text=True, check=True,
                          env={k: v for k, v in os.environ.items()
                               if k != 'NO_ALBUMENTATIONS_UPDATE'})
    assert '--train' in proc.stdout and 'COCO' in proc.stdout and '--masks' in proc.stdout
    assert proc.stderr == '', proc.stderr  # e.g. no albumentations update check


def test_masks_are_rle_of_the_visible_silhouette():
    from pycocotools import mask as mask_utils

    rng = np.random.default_rng(3)
    for _ in range(5):
        image, anns = make_image(rng, 96, masks=True)
        for ann in anns:
            rle = dict(ann['segmentation'], counts=ann['segmentation']['counts'].encode())
            mask = mask_utils.decode(rle)
            assert mask.shape == image.shape[:2] and mask.sum() >= 20
            x, y, w, h = ann['bbox']  # the silhouette lies inside the (unoccluded) box
            ys, xs = np.nonzero(mask)
            assert xs.min() >= x and ys.min() >= y and xs.max() < x + w and ys.max() < y + h


def test_limbs_swing_away_from_the_body():
    """Camera-facing figures: the left limbs (image right) mostly reach outwards, to larger x.

    Guards the angle convention of ``random_pose``: with the sign flipped the arms cross
    the chest in most poses, which makes wrists and elbows far harder to localise.
    """
    rng = np.random.default_rng(0)
    poses = np.stack([random_pose(rng, 100.0, np.array([64.0, 64.0])) for _ in range(300)])
    left_arm_out = (poses[:, 7, 0] > poses[:, 5, 0]).mean()
    right_arm_out = (poses[:, 8, 0] < poses[:, 6, 0]).mean()
    left_leg_out = (poses[:, 13, 0] > poses[:, 11, 0]).mean()
    assert min(left_arm_out, right_arm_out) > 0.8 and left_leg_out > 0.6
    # and the body stands upright: ankles below hips below shoulders below the nose
    assert (poses[:, 0, 1] < poses[:, 5, 1]).all() and (poses[:, 11, 1] < poses[:, 15, 1]).all()
