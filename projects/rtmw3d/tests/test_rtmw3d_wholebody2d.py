"""The whole-body 2-D comparison (tools/wholebody_2d.py, configs/wholebody2d/): both configs
train and test one iteration on a few generated images and produce CocoWholeBodyMetric's
keys; the per-part APs equal 1 for the ground truth itself; the schedule override and the
tool's argument checks."""
import copy
import json
import sys

import pytest
from rtmw3d_fixtures import PROJECT

sys.path.insert(0, str(PROJECT / 'tools'))
import wholebody_2d as tool  # noqa: E402

NAMES = [name for _, name, _ in tool.MODELS]


@pytest.fixture(scope='module')
def data_dir(tmp_path_factory):
    return tool.prepare_data(tmp_path_factory.mktemp('wb2d'), num_train=4, num_val=2)


def test_prepare_data_writes_once(data_dir):
    ann = data_dir / 'annotations' / 'coco_wholebody_val.json'
    before = ann.stat().st_mtime_ns
    assert tool.prepare_data(data_dir.parent, num_train=4, num_val=2) == data_dir
    assert ann.stat().st_mtime_ns == before  # reused, not rewritten
    coco = json.loads(ann.read_text())
    assert len(coco['images']) == 2 and len(coco['annotations'][0]['face_kpts']) == 68 * 3


def test_the_configs_compare_like_for_like(data_dir, tmp_path):
    rtmo, rtmw = (tool.build_config(name, data_dir, tmp_path / name) for name in NAMES)
    assert rtmo.model.type == 'BottomupPoseEstimator'
    assert rtmo.model.head.metainfo.endswith('coco_wholebody.py')
    assert rtmw.model.head.out_channels == 133
    assert rtmw.model.head.decoder.type == 'BoxSimCCLabel'
    assert rtmw.test_dataloader.dataset.bbox_file is None  # ground-truth boxes
    assert rtmw.model.test_cfg.flip_test is False  # left and right differ by colour
    assert rtmo.train_dataloader.dataset.type == 'CocoWholeBodyBottomupDataset'
    assert rtmw.train_dataloader.dataset.type == 'CocoWholeBodyDataset'
    for cfg in (rtmo, rtmw):
        assert cfg.model.backbone.init_cfg is None  # random init, no download
        assert cfg.test_evaluator.type == 'CocoWholeBodyMetric'
    # the same images, batch and number of epochs: the same number of steps
    for key in ('train_dataloader.batch_size', 'train_cfg.max_epochs',
                'train_dataloader.dataset.data_root', 'train_dataloader.dataset.ann_file',
                'test_dataloader.dataset.ann_file', 'test_evaluator.ann_file'):
        assert _get(rtmo, key) == _get(rtmw, key), key


def _get(cfg, key):
    for part in key.split('.'):
        cfg = cfg[part]
    return cfg


def test_set_epochs_moves_the_schedule_and_the_stage_switch(data_dir, tmp_path):
    rtmo, rtmw = (tool.build_config(name, data_dir, tmp_path, epochs=10) for name in NAMES)
    assert rtmo.train_cfg.max_epochs == rtmw.train_cfg.max_epochs == 10
    assert rtmo.train_cfg.val_interval == rtmw.train_cfg.val_interval == 10
    assert rtmo.default_hooks.checkpoint.interval == rtmw.default_hooks.checkpoint.interval == 10
    assert (rtmo.param_scheduler[-1].end, rtmo.param_scheduler[-1].T_max) == (10, 9)
    assert (rtmw.param_scheduler[-1].end, rtmw.param_scheduler[-1].T_max) == (10, 10)
    switch = next(h for h in rtmo.custom_hooks if h.type == 'RTMOModeSwitchHook')
    assert list(switch.epoch_attributes) == [4]  # epoch 7 of 20 -> 3.5 of 10, rounded


@pytest.mark.parametrize('name', NAMES)
def test_config_trains_and_tests_one_iteration(name, data_dir, tmp_path):
    cfg = tool.build_config(name, data_dir, tmp_path)
    cfg.train_dataloader.batch_size = 2
    cfg.train_dataloader.dataset.indices = 2  # one iteration
    cfg.train_cfg.update(max_epochs=1, val_interval=100)
    cfg.default_hooks.checkpoint.interval = 1
    cfg.default_hooks.logger.interval = 1
    row = tool.train_and_evaluate('model', cfg, procs=1)  # the tool's train + test
    assert row['steps'] == 1
    assert set(row) == {'model', 'whole-body AP', *(f'{p} AP' for p, _ in tool.PARTS), 'AR',
                        'steps', 'train minutes', 'train CPU s'}
    assert all(-1.0 <= row[k] <= 1.0 for k in row if 'AP' in k or k == 'AR')
    assert (tmp_path / 'val.keypoints.json').is_file()  # the metric's result file
    # the training run's own log: with MMPose's fixed visualizer name, a second Runner in
    # this process wrote into the first one's files
    assert len(list(tmp_path.glob('*/vis_data/scalars.json'))) == 1


def test_part_aps_of_the_ground_truth_are_one_and_drop_when_a_part_moves(data_dir, tmp_path):
    ann_file = data_dir / 'annotations/coco_wholebody_val.json'
    truth = [dict(image_id=a['image_id'], category_id=1, score=1.0,
                  **{k: a[k] for k in ('keypoints', 'foot_kpts', 'face_kpts',
                                       'lefthand_kpts', 'righthand_kpts')})
             for a in json.loads(ann_file.read_text())['annotations']]
    (tmp_path / 'truth.json').write_text(json.dumps(truth))
    assert tool.part_aps(ann_file, tmp_path / 'truth.json') == {
        f'{part} AP': pytest.approx(1.0) for part, _ in tool.PARTS}
    moved = copy.deepcopy(truth)
    for result in moved:  # the face 5 px off: only the face AP drops
        result['face_kpts'] = [v + 5 if i % 3 == 0 else v
                               for i, v in enumerate(result['face_kpts'])]
    (tmp_path / 'moved.json').write_text(json.dumps(moved))
    aps = tool.part_aps(ann_file, tmp_path / 'moved.json')
    assert aps['face AP'] < 0.5 and aps['body AP'] == pytest.approx(1.0)


@pytest.mark.parametrize('argv, message', [
    (['--procs', '3'], '--procs must divide'),
    (['--procs', '0'], '--procs must divide'),
    (['--epochs', '1'], '--epochs must be >= 2'),
    (['--train-images', '4'], '--train-images must be >= 8'),
    (['--val-images', '0'], '--val-images >= 1'),
])
def test_the_tool_rejects_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit):
        tool.parse_args(argv)
    assert message in capsys.readouterr().err


def test_the_tool_defaults():
    args = tool.parse_args([])
    assert (args.train_images, args.val_images, args.epochs, args.procs) == (360, 40, None, 1)
    assert args.out.name == 'rtmw3d-wholebody2d' and args.data.name == 'rtmw3d-wholebody2d'
