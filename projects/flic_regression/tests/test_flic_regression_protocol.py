"""FLIC's evaluation protocol: the crop FLIC's torso box gives (never one built from the
ground-truth keypoints), a validation split held out from the training frames, the test split
only tested, and MediaPipe cropped as the top-down models are."""
import importlib.util

import numpy as np
import pytest
from flic_fixtures import PROJECT, flic_arrays, synthetic_flic
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS, TRANSFORMS

from projects.flic_regression.flic_regression import flic_format, slots

IDX = slots.INDEX
CONFIGS = sorted((PROJECT / 'configs').glob('*.py'))


def _example(torsobox, coords=None, **kwargs):
    coords = flic_arrays(coords or {IDX['lsho']: (110, 60), IDX['rhip']: (140, 125)})
    return flic_format.Example(coords=coords, torsobox=np.asarray(torsobox, float),
                               filepath=kwargs.pop('filepath', 'a.jpg'),
                               imgdims=np.array([480, 720, 3]), istrain=True, istest=False,
                               **kwargs)


def test_torsobox_crop_is_modecs_upper_body_box():
    # torso box 50 wide: a unit of 1.4 x 50 = 70 px; 2 units either side of x = 125,
    # 1 unit above the top (y = 50) and 2 below
    ex = _example([100, 50, 150, 130])
    np.testing.assert_allclose(flic_format.crop_box(ex), [-15, -20, 265, 190])
    # built from the torso box alone: keypoints anywhere give the same crop
    far = _example([100, 50, 150, 130], {IDX['lwri']: (700, 470), IDX['nose']: (5, 5)})
    np.testing.assert_allclose(flic_format.crop_box(far), flic_format.crop_box(ex))
    # the oracle crop is the labelled option and does follow the keypoints
    assert not np.allclose(flic_format.crop_box(far, 'oracle'), flic_format.crop_box(ex))
    with pytest.raises(ValueError, match='torsobox'):
        flic_format.crop_box(_example([np.nan, 50, 150, 130]))
    with pytest.raises(ValueError, match='crop='):
        flic_format.crop_box(ex, 'gt')


def test_dataset_crops_through_the_torso_box(tmp_path):
    root = synthetic_flic(tmp_path, num_train=3, num_test=2)
    examples = flic_format.read_examples(root / 'examples.mat')
    init_default_scope('mmpose')
    pipeline = [dict(type='GetBBoxCenterScale', padding=1.0),
                dict(type='TopdownAffine', input_size=(64, 64))]
    dataset = DATASETS.build(dict(type='FLICDataset', data_root=str(root),
                                  ann_file='examples.mat', data_prefix=dict(img='images/'),
                                  split='test', test_mode=True, pipeline=[]))
    for i in range(len(dataset)):
        info = dataset[i]
        ex = examples[info['id'] - 1]
        box = flic_format.upper_body_box(ex.torsobox)
        np.testing.assert_allclose(info['bbox'][0], box, rtol=1e-5)
        assert info['raw_ann_info']['crop'] == 'torsobox'
        # the affine crop: the box widened to the square input about its centre
        out = info
        for step in pipeline:
            out = TRANSFORMS.build(step)(dict(out, img=np.zeros((480, 720, 3), np.uint8)))
        side = max(box[2] - box[0], box[3] - box[1])
        np.testing.assert_allclose(out['bbox_center'][0], (box[:2] + box[2:]) / 2, rtol=1e-5)
        np.testing.assert_allclose(out['bbox_scale'][0], [side, side], rtol=1e-5)
    with pytest.raises(ValueError, match='padding=1.0'):  # a second padding shrinks persons
        DATASETS.build(dict(type='FLICDataset', data_root=str(root), ann_file='examples.mat',
                            data_prefix=dict(img='images/'), split='test', test_mode=True,
                            pipeline=[dict(type='GetBBoxCenterScale')]))


def test_val_split_is_held_out_training_frames(tmp_path):
    root = synthetic_flic(tmp_path, num_train=10, num_test=3)
    examples = flic_format.read_examples(root / 'examples.mat')
    init_default_scope('mmpose')
    frames = {}
    for split in ('train', 'val', 'trainval', 'test'):
        dataset = DATASETS.build(dict(type='FLICDataset', data_root=str(root),
                                      ann_file='examples.mat', data_prefix=dict(img='images/'),
                                      split=split, test_mode=True, pipeline=[]))
        frames[split] = {dataset[i]['raw_ann_info']['filepath'] for i in range(len(dataset))}
    training = {ex.filepath for ex in examples if ex.istrain}
    testing = {ex.filepath for ex in examples if ex.istest}
    assert len(training) == 10 and len(frames['val']) == 1  # a tenth of the training frames
    assert frames['val'] <= training and not frames['val'] & testing
    assert not frames['val'] & frames['train']
    assert frames['val'] | frames['train'] == frames['trainval'] == training
    assert frames['test'] == testing
    # fixed by the file names alone: the order of examples.mat does not matter
    assert flic_format.val_frames(examples[::-1]) == flic_format.val_frames(examples)
    assert len(flic_format.val_frames(examples, 0.3)) == 3
    assert flic_format.val_frames(examples, 0) == set()
    with pytest.raises(ValueError, match='val_fraction'):
        flic_format.val_frames(examples, 1.0)


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_configs_follow_the_protocol(path):
    cfg = Config.fromfile(str(path))
    splits = [cfg[f'{k}_dataloader'].dataset.split for k in ('train', 'val', 'test')]
    assert splits == ['train', 'val', 'test']
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[key].dataset.get('crop', 'torsobox') == 'torsobox', key
    for pipeline in (cfg.train_pipeline, cfg.val_pipeline):
        centre = [t for t in pipeline if t['type'] == 'GetBBoxCenterScale']
        assert centre and centre[0]['padding'] == 1.0
    hooks = {h['type']: h for h in cfg.custom_hooks}
    assert hooks['EarlyStoppingHook']['monitor'] == 'flic/MSE'
    assert cfg.default_hooks.checkpoint.save_best == 'flic/PCK'


def _mediapipe_script():
    spec = importlib.util.spec_from_file_location(
        'flic_mediapipe_baseline', PROJECT / 'tools' / 'mediapipe_baseline.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # MediaPipe itself is imported only when it runs
    return module


def test_mediapipe_sees_the_top_down_models_crop():
    script = _mediapipe_script()
    ex = _example([100, 50, 150, 130])
    box = flic_format.crop_box(ex)
    init_default_scope('mmpose')
    out = dict(bbox=box[None].astype(np.float32), img=np.zeros((480, 720, 3), np.uint8))
    for step in (dict(type='GetBBoxCenterScale', padding=1.0),
                 dict(type='TopdownAffine', input_size=(224, 224))):
        out = TRANSFORMS.build(step)(out)
    crop, origin, side = script.square_crop(np.zeros((480, 720, 3), np.uint8), box)
    np.testing.assert_allclose(side, out['bbox_scale'][0, 0], rtol=1e-5)
    np.testing.assert_allclose(origin + side / 2, out['bbox_center'][0], rtol=1e-5)
    assert crop.shape[:2] == (int(np.ceil(side)),) * 2
