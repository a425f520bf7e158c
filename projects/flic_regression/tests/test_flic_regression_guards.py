"""The plugin's guards in the FLIC project: non-finite labels are unlabelled, malformed
``examples.mat`` fields and empty sets are named, images are scanned before iteration 1,
``load_from`` is checked, and every config skips non-finite steps."""
import numpy as np
import pytest
import torch
from flic_fixtures import PROJECT, synthetic_flic, tiny
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmpose.registry import DATASETS, MODELS
from scipy.io import loadmat, savemat

from projects.flic_regression.flic_regression import flic_format, slots
from rtmo_plugin.checkpoint import CheckpointMismatchError
from rtmo_plugin.data_checks import DataCheckError

CONFIGS = sorted((PROJECT / 'configs').glob('*.py'))
TINY = PROJECT / 'configs' / 'resnet50-regression_tiny-cpu_synthetic-flic-64x64.py'
LWRI = slots.INDEX['lwri']


def _runner(root, work_dir, config=TINY, **changes) -> Runner:
    init_default_scope('mmpose')
    cfg = tiny(Config.fromfile(str(config)), root, work_dir)
    cfg.merge_from_dict(changes)
    return Runner.from_cfg(cfg)


def _edit_field(mat, index: int, field: str, value) -> None:
    """Sets ``examples(index + 1).field`` of a written ``examples.mat`` to ``value``."""
    table = loadmat(str(mat))['examples']
    table[0, index][field] = value
    savemat(str(mat), {'examples': table})


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_configs_carry_the_guards(path):
    cfg = Config.fromfile(str(path))
    assert cfg.optim_wrapper.type == 'FiniteOptimWrapper'
    assert cfg.default_hooks.non_finite.type == 'NonFiniteLossHook'
    assert cfg.default_hooks.data_check.type == 'DataCheckHook'
    assert cfg.default_hooks.keypoint_finetune.type == 'KeypointFinetuneHook'


def test_inf_coordinate_is_unlabelled_and_training_stays_finite(tmp_path):
    root = synthetic_flic(tmp_path / 'flic', num_train=4, num_test=1)
    mat = root / 'examples.mat'
    examples = flic_format.read_examples(mat)
    examples[0].coords[LWRI] = (np.inf, 100.0)
    examples[1].coords[slots.INDEX['lsho']] = (-np.inf, np.inf)
    flic_format.write_examples(mat, examples)
    with pytest.warns(RuntimeWarning, match=r'examples\(1\), examples\(2\)'):
        again = flic_format.read_examples(mat)
    assert not again[0].labelled[LWRI] and np.isnan(again[0].coords[LWRI]).all()
    assert again[0].labelled.sum() == 10
    init_default_scope('mmpose')
    dataset = DATASETS.build(dict(type='FLICDataset', data_root=str(root),
                                  ann_file='examples.mat', data_prefix=dict(img='images/'),
                                  split='all', test_mode=True, pipeline=[]))
    first = dataset[0]
    assert first['keypoints_visible'][0, LWRI] == 0
    assert np.isfinite(first['keypoints']).all() and np.isfinite(first['bbox']).all()
    runner = _runner(root, tmp_path / 'work')
    runner.train()
    state = torch.load(runner.work_dir + '/epoch_1.pth', map_location='cpu')['state_dict']
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


@pytest.mark.parametrize('field, value, message', [
    ('coords', 'abc', 'text, not numbers'),
    ('torsobox', np.array([[1.0, 2.0]]), '2 values'),
    ('imgdims', np.array([[0.0, 720.0, 3.0]]), 'height width'),
    ('filepath', '../../etc/passwd', 'leaves the image folder'),
    ('istrain', 'yes', '0/1 flag'),
], ids=lambda v: v if isinstance(v, str) and len(v) < 12 else '')
def test_malformed_field_names_file_example_and_field(tmp_path, field, value, message):
    root = synthetic_flic(tmp_path, num_train=2, num_test=1)
    mat = root / 'examples.mat'
    _edit_field(mat, 1, field, value)
    with pytest.raises(ValueError, match=rf'examples\.mat: examples\(2\)\.{field} = .*'
                       rf'{message}'):
        flic_format.read_examples(mat)


def test_damaged_mat_and_bad_torso_box_are_named(tmp_path):
    bad = tmp_path / 'examples.mat'
    bad.write_bytes(b'{"images": []}')
    with pytest.raises(ValueError, match='cannot be read as a MATLAB .mat file'):
        flic_format.read_examples(bad)
    root = synthetic_flic(tmp_path / 'flic', num_train=2, num_test=1)
    _edit_field(root / 'examples.mat', 0, 'torsobox', np.array([[np.nan, 1.0, 2.0, 3.0]]))
    init_default_scope('mmpose')
    with pytest.raises(ValueError, match=r'examples\.mat: examples\(1\): .*torsobox'):
        DATASETS.build(dict(type='FLICDataset', data_root=str(root), ann_file='examples.mat',
                            data_prefix=dict(img='images/'), split='all', pipeline=[]))


def test_empty_training_set_is_named(tmp_path):
    root = synthetic_flic(tmp_path / 'flic', num_train=4, num_test=1)
    mat = root / 'examples.mat'
    examples = flic_format.read_examples(mat)
    for ex in examples:
        if ex.istrain:
            ex.coords[:] = np.nan  # nothing labelled in the training frames
    flic_format.write_examples(mat, examples)
    with pytest.raises(ValueError, match=r"none of the \d+ examples of split 'train' has a "
                       'labelled keypoint'):
        _runner(root, tmp_path / 'work').train()
    flic_format.write_examples(mat, [ex for ex in examples if ex.istest])
    with pytest.raises(ValueError, match=r"examples\.mat has \d+ examples, none in split "
                       "'train'"):
        _runner(root, tmp_path / 'work2').train()


def test_bad_images_stop_the_run_before_it_starts(tmp_path):
    root = synthetic_flic(tmp_path / 'flic', num_train=4, num_test=1)
    examples = flic_format.read_examples(root / 'examples.mat')
    training = sorted({ex.filepath for ex in examples if ex.istrain}
                      - flic_format.val_frames(examples))
    image = root / 'images' / training[0]
    image.write_bytes(image.read_bytes()[:2000])  # truncated: no end-of-image marker
    runner = _runner(root, tmp_path / 'work')
    with pytest.raises(DataCheckError, match=rf'{training[0]}: truncated JPEG'):
        runner.train()
    assert runner.iter == 0
    synthetic_flic(root, num_train=4, num_test=1)  # whole again
    test_image = next(root / 'images' / ex.filepath for ex in examples if ex.istest)
    test_image.unlink()
    with pytest.raises(DataCheckError, match=rf'{test_image.name}: missing'):
        _runner(root, tmp_path / 'work3').test()


def _saved_model(tmp_path, **head) -> str:
    """A checkpoint of the tiny regression model with ``head`` changed."""
    init_default_scope('mmpose')
    cfg = Config.fromfile(str(TINY))
    cfg.model.head.update(head)
    path = str(tmp_path / 'other.pth')
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict(), meta={}), path)
    return path


def test_load_from_is_checked(tmp_path):
    root = synthetic_flic(tmp_path / 'flic', num_train=4, num_test=1)
    other_size = _saved_model(tmp_path, hidden_dims=(256, 128))
    with pytest.raises(CheckpointMismatchError, match='head.dense'):
        _runner(root, tmp_path / 'work', load_from=other_size).train()
    coco_joints = _saved_model(tmp_path, num_joints=17)  # another keypoint set: fine-tuning
    runner = _runner(root, tmp_path / 'work2', load_from=coco_joints)
    runner.train()
    loaded = torch.load(coco_joints, map_location='cpu')['state_dict']
    model = runner.model.state_dict()
    assert model['head.out.weight'].shape == (58, 512)  # FLIC's 29 x 2, re-initialised
    assert loaded['head.out.weight'].shape == (34, 512)
