"""FLIC's examples.mat: writing, reading, the dataset's NaN masking, COCO -> FLIC."""
import numpy as np
import pytest
from flic_fixtures import coco_persons, synthetic_flic
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS
from scipy.io import loadmat

from projects.flic_regression import flic_regression
from projects.flic_regression.flic_regression import data, flic_format, slots

REGISTERED = [('DATASETS', 'FLICDataset'), ('METRICS', 'FLICTorsoPCK'),
              ('MODELS', 'SigmoidDenseRegressionHead'), ('HOOKS', 'BackboneUnfreezeHook'),
              ('TRANSFORMS', 'TopdownRandomShear'), ('TRANSFORMS', 'RandomBrightnessScale'),
              ('TRANSFORMS', 'RandomChannelShift')]
MMPOSE = dict(DATASETS=DATASETS, METRICS=METRICS, MODELS=MODELS, HOOKS=HOOKS,
              TRANSFORMS=TRANSFORMS)


def test_registered_names_are_ours_and_new():
    import mmdet.datasets  # noqa: F401  (registers mmdet's modules)
    import mmdet.models  # noqa: F401
    from mmdet import registry as mmdet_registry
    from mmengine import registry as mmengine_registry
    for kind, name in REGISTERED:
        assert MMPOSE[kind].get(name).__module__.startswith('projects.flic_regression'), name
        assert name in flic_regression.__all__
        # mmdet's and mmengine's registries are MMPose's sibling and parent: not there either
        assert name not in getattr(mmdet_registry, kind).module_dict, name
        assert name not in getattr(mmengine_registry, kind).module_dict, name


def test_metainfo_is_flic_layout():
    assert slots.NUM_SLOTS == 29 and len(slots.LABELLED) == 11
    assert [slots.NAMES[i] for i in slots.TORSO] == ['lsho', 'rhip']
    assert slots.NAMES[:6] == ['lsho', 'lelb', 'lwri', 'rsho', 'relb', 'rwri']
    init_default_scope('mmpose')
    meta = DATASETS.get('FLICDataset')._load_metainfo(DATASETS.get('FLICDataset').METAINFO)
    flip = meta['flip_indices']
    assert flip[slots.INDEX['lsho']] == slots.INDEX['rsho']
    assert flip[slots.INDEX['nose']] == slots.INDEX['nose']
    assert sorted(flip) == list(range(29))


def test_mat_has_flic_fields_and_round_trips(tmp_path):
    root = synthetic_flic(tmp_path, num_train=3, num_test=2)
    raw = loadmat(str(root / 'examples.mat'))['examples']  # as FLIC users load it
    assert raw.shape[0] == 1 and raw.shape[1] >= 5  # a frame shows one or two persons
    first = raw[0, 0]
    assert first['coords'].shape == (2, 29)
    assert np.isnan(first['coords']).sum() == 2 * 18  # only the 11 labelled slots have values
    assert first['torsobox'].shape == (1, 4)
    assert list(first['imgdims'][0]) == [480, 720, 3]
    examples = flic_format.read_examples(root / 'examples.mat')
    assert sum(e.istrain for e in examples) >= 3 and sum(e.istest for e in examples) >= 2
    for ex in examples:
        assert list(np.flatnonzero(ex.labelled)) == sorted(slots.LABELLED)
        assert ((ex.coords[ex.labelled] >= 0) & (ex.coords[ex.labelled] < [720, 480])).all()
        assert (root / 'images' / ex.filepath).is_file()
    again = tmp_path / 'again.mat'
    flic_format.write_examples(again, examples)
    for a, b in zip(examples, flic_format.read_examples(again)):
        np.testing.assert_array_equal(a.coords, b.coords)
        assert (a.filepath, a.istrain, a.istest) == (b.filepath, b.istrain, b.istest)


def test_read_examples_names_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match='examples.mat'):
        flic_format.read_examples(tmp_path / 'missing.mat')
    from scipy.io import savemat
    savemat(str(tmp_path / 'other.mat'), {'x': np.ones(2)})
    with pytest.raises(ValueError, match='no `examples`'):
        flic_format.read_examples(tmp_path / 'other.mat')


def test_dataset_masks_unlabelled_slots(tmp_path):
    root = synthetic_flic(tmp_path, num_train=2, num_test=1)
    init_default_scope('mmpose')
    dataset, oracle = (DATASETS.build(dict(
        type='FLICDataset', data_root=str(root), ann_file='examples.mat',
        data_prefix=dict(img='images/'), split='trainval', crop=crop, pipeline=[]))
        for crop in ('torsobox', 'oracle'))
    examples = [e for e in flic_format.read_examples(root / 'examples.mat') if e.istrain]
    assert len(dataset) == len(examples) == len(oracle)
    for i, ex in enumerate(examples):
        info = dataset[i]
        assert info['keypoints'].shape == (1, 29, 2) and not np.isnan(info['keypoints']).any()
        visible = info['keypoints_visible'][0]
        np.testing.assert_array_equal(visible, ex.labelled.astype(np.float32))
        assert visible.sum() == 11
        np.testing.assert_array_equal(info['keypoints'][0][~ex.labelled], 0)
        np.testing.assert_allclose(info['keypoints'][0][ex.labelled], ex.coords[ex.labelled],
                                   rtol=1e-6)
        np.testing.assert_allclose(info['bbox'][0], flic_format.crop_box(ex), rtol=1e-5)
        x1, y1, x2, y2 = oracle[i]['bbox'][0].astype(float)  # the keypoints' box
        labelled = ex.coords[ex.labelled]
        tol = 1e-3  # float32 box
        assert x1 <= labelled[:, 0].min() + tol and x2 >= labelled[:, 0].max() - tol
        assert y1 <= labelled[:, 1].min() + tol and y2 >= labelled[:, 1].max() - tol
        assert np.isnan(info['raw_ann_info']['flic_coords']).sum() == 36
    with pytest.raises(ValueError, match='split'):
        DATASETS.build(dict(type='FLICDataset', data_root=str(root), ann_file='examples.mat',
                            split='validation'))


def test_coco_to_flic_on_coco_persons(tmp_path):
    coco_file, images, real = coco_persons(tmp_path)
    examples, skipped = data.coco_to_flic(coco_file)
    import json
    coco = json.loads(coco_file.read_text())
    with_torso = [a for a in coco['annotations']
                  if a['keypoints'][5 * 3 + 2] > 0 and a['keypoints'][12 * 3 + 2] > 0]
    assert len(examples) == len(with_torso) and len(examples) + skipped <= len(
        coco['annotations'])
    if real:
        assert len(examples) == 12  # of coco-mini's 14 persons
    ann = with_torso[0]
    kpts = np.asarray(ann['keypoints'], float).reshape(17, 3)
    ex = examples[0]
    np.testing.assert_allclose(ex.coords[slots.INDEX['rhip']], kpts[12, :2])
    if kpts[9, 2] > 0:
        np.testing.assert_allclose(ex.coords[slots.INDEX['lwri']], kpts[9, :2])
    else:
        assert np.isnan(ex.coords[slots.INDEX['lwri']]).all()
    assert np.isnan(ex.coords[slots.INDEX['lear']]).all()  # FLIC does not label ears
    mat, kept, _ = data.write_coco_as_flic(coco_file, tmp_path / 'coco.mat')
    init_default_scope('mmpose')
    dataset = DATASETS.build(dict(type='FLICDataset', ann_file=str(mat),
                                  data_prefix=dict(img=str(images) + '/'), split='test',
                                  test_mode=True, pipeline=[dict(type='LoadImage')]))
    assert len(dataset) == kept
    sample = dataset[0]
    assert sample['img'].shape[:2] == tuple(int(v) for v in ex.imgdims[:2])
