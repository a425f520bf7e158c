"""The whole-body 2-D demo (tools/wholebody_2d.py, configs/wholebody2d/): the multi-person
generator (133 points, COCO-WholeBody fields MMPose reads, occlusion, facing, determinism), the
configs (the tiny CPU recipe plus the whole-body delta; the same data for both models), the CPU
budget, the detection file, per-part AP, the argument checks, and the command as a user runs it
on tiny inputs."""
import copy
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from mmengine.config import Config
from rtmw3d_fixtures import PROJECT, REPO
from test_configs_headline import plain  # the repository's tests (rtmw3d_fixtures)

from projects.rtmw3d.rtmw3d import synthetic_wholebody as wb

sys.path.insert(0, str(PROJECT / 'tools'))
import wholebody_2d as tool  # noqa: E402
import wholebody_latency as latency  # noqa: E402

PART_POINTS = dict(keypoints=17, foot_kpts=6, face_kpts=68, lefthand_kpts=21,
                   righthand_kpts=21)


@pytest.fixture(scope='module')
def data_dir(tmp_path_factory):
    return tool.prepare_data(tmp_path_factory.mktemp('wb2d'), num_train=20, num_val=4)


@pytest.fixture(scope='module')
def train_coco(data_dir):
    return json.loads((data_dir / 'annotations/coco_wholebody_train.json').read_text())


def test_prepare_data_writes_once(data_dir):
    ann = data_dir / 'annotations' / 'coco_wholebody_val.json'
    before = ann.stat().st_mtime_ns
    assert tool.prepare_data(data_dir.parent, num_train=20, num_val=4) == data_dir
    assert ann.stat().st_mtime_ns == before  # reused, not rewritten
    assert data_dir.name.startswith(f'v{wb.VERSION}-size128-')


def test_generator_writes_several_whole_body_people_per_image(train_coco):
    people = [sum(a['image_id'] == i['id'] for a in train_coco['annotations'])
              for i in train_coco['images']]
    assert len(people) == 20 and max(people) >= 2 and 0 in people  # as the 2-D demo's images
    visibilities = set()
    for ann in train_coco['annotations']:
        for key, count in PART_POINTS.items():
            assert len(ann[key]) == 3 * count, key
            visibilities |= set(ann[key][2::3])
        x, y, w, h = ann['bbox']
        assert min(x, y) >= 0 and max(x + w, y + h) <= 128 and w * h > 0
        assert ann['area'] == pytest.approx(0.5 * w * h)
        for part in ('face', 'lefthand', 'righthand'):
            assert isinstance(ann[f'{part}_valid'], bool) and len(ann[f'{part}_box']) == 4
    assert visibilities == {0.0, 1.0, 2.0}  # outside, covered by a later figure, seen
    heights = [a['bbox'][3] for a in train_coco['annotations']]
    assert np.median(heights) > 0.5 * 128  # figures 0.6-0.95 of the image tall


def test_generated_people_face_the_camera(train_coco):
    """Within MAX_TURN of the camera, a figure's left shoulder is on the image's right."""
    shoulders = [np.reshape(a['keypoints'], (17, 3))[5:7] for a in train_coco['annotations']]
    both = [s for s in shoulders if (s[:, 2] > 0).all()]
    assert len(both) >= 10
    assert np.mean([left[0] > right[0] for left, right in both]) > 0.9


def test_generator_is_deterministic_per_seed(tmp_path):
    files = [wb.write_coco_wholebody_split(tmp_path / name, 'val', 3, seed=seed)
             for name, seed in (('a', 0), ('b', 0), ('c', 1))]
    a, b, c = (f.read_text() for f in files)
    assert a == b and a != c
    assert (tmp_path / 'a/val/000001.jpg').read_bytes() == (tmp_path / 'b/val/000001.jpg'
                                                             ).read_bytes()


def test_mmpose_reads_the_generated_split(data_dir):
    from mmengine.registry import init_default_scope
    from mmpose.registry import DATASETS
    init_default_scope('mmpose')
    for mode, dataset_type in (('topdown', 'CocoWholeBodyDataset'),
                               ('bottomup', 'CocoWholeBodyBottomupDataset')):
        dataset = DATASETS.build(dict(
            type=dataset_type, data_mode=mode, data_root=str(data_dir) + '/',
            ann_file='annotations/coco_wholebody_train.json', data_prefix=dict(img='train/'),
            pipeline=[]))
        sample = dataset[0]
        assert sample['keypoints'].shape[1:] == (133, 2), mode


def test_the_configs_compare_on_the_same_images(data_dir, tmp_path):
    rtmo, rtmw = (tool.build_config(name, data_dir, tmp_path / name, seed=3)
                  for name in (tool.RTMO, tool.RTMW))
    recipe = Config.fromfile(str(REPO / 'configs/_base_/rtmo_tiny-cpu-128x128.py'))
    # the whole-body RTMO is the tiny CPU recipe (the plugin demo's) with 133 keypoints
    for key in ('optim_wrapper', 'param_scheduler', 'custom_hooks', 'train_cfg',
                'model.backbone', 'model.neck', 'model.head.head_module_cfg',
                'model.test_cfg', 'train_dataloader.dataset.pipeline'):
        assert plain(_get(rtmo, key)) == plain(_get(recipe, key)), key  # no _scope_ marks
    assert rtmo.model.head.metainfo.endswith('coco_wholebody.py')
    assert rtmo.train_dataloader.dataset.type == 'CocoWholeBodyBottomupDataset'
    assert rtmw.train_dataloader.dataset.type == 'CocoWholeBodyDataset'
    assert rtmw.model.head.out_channels == 133
    assert rtmw.model.head.decoder.type == 'BoxSimCCLabel'
    assert rtmw.test_dataloader.dataset.bbox_file is None  # true boxes unless the tool says
    assert rtmw.model.test_cfg.flip_test is False  # left and right differ by colour
    for cfg in (rtmo, rtmw):
        assert cfg.model.backbone.init_cfg is None  # random init, no download
        assert cfg.test_evaluator.type == 'CocoWholeBodyMetric'
        assert cfg.randomness.seed == 3
    for key in ('train_dataloader.batch_size', 'train_dataloader.dataset.data_root',
                'train_dataloader.dataset.ann_file', 'test_dataloader.dataset.ann_file',
                'test_evaluator.ann_file'):
        assert _get(rtmo, key) == _get(rtmw, key), key


def _get(cfg, key):
    for part in key.split('.'):
        cfg = cfg[part]
    return cfg


def test_the_budget_sets_the_epochs(data_dir, tmp_path):
    rtmo, rtmw = (tool.build_config(name, data_dir, tmp_path) for name in (tool.RTMO, tool.RTMW))
    # 200 CPU s at 0.25 s per step and 40 steps per epoch: 20 epochs
    assert tool.set_budget(rtmo, 0.25, 40, 200.0) == 20
    assert (rtmo.train_cfg.max_epochs, rtmo.train_cfg.val_interval) == (20, 21)
    assert (rtmo.param_scheduler[-1].end, rtmo.param_scheduler[-1].T_max) == (20, 19)
    switch = next(h for h in rtmo.custom_hooks if h.type == 'RTMOModeSwitchHook')
    assert list(switch.epoch_attributes) == [7]  # epoch 15 of 44 -> 6.8 of 20
    assert tool.set_budget(rtmw, 0.1, 80, 200.0) == 25  # cheaper steps: more of them
    assert tool.set_budget(rtmw, 10.0, 80, 200.0) == 2  # at least two epochs


class _Loop:  # the parts of mmengine's EpochBasedTrainLoop that CPUBudgetHook uses
    def __init__(self, epochs, steps):
        self._max_epochs, self._max_iters, self.dataloader = epochs, epochs * steps, [0] * steps

    max_epochs = property(lambda self: self._max_epochs)
    max_iters = property(lambda self: self._max_iters)


def test_the_budget_hook_ends_the_schedule_earlier_when_steps_get_dearer(monkeypatch):
    """10 planned epochs of 5 steps on a 100 CPU s budget: the first epoch costs 10 s (the
    plan holds), the second 30 s; at their mean (20 s) the 60 s left pay for 3 more: the
    loop, the cosine's end and its length move to epoch 5, and the learning rate still
    decays to its floor there, and the second stage moves from epoch 6 of 10 to 3 of 5.
    Cheaper epochs than planned move the end out."""
    import logging
    from types import SimpleNamespace

    import torch
    from mmengine.optim import CosineAnnealingLR

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    cosine = CosineAnnealingLR(optimizer, T_max=50, eta_min=0.1, begin=0, end=50,
                               by_epoch=False)
    switch = SimpleNamespace(epoch_attributes={0: 'start', 6: 'second stage'})
    runner = SimpleNamespace(train_loop=_Loop(10, 5), param_schedulers=[cosine], hooks=[switch],
                             logger=logging.getLogger('budget'))
    hook = tool.CPUBudgetHook(budget=100.0)
    ticks = iter([0.0, 0.0, 10.0, 10.0, 40.0])  # start, epoch 0 from/to, epoch 1 from/to
    monkeypatch.setattr(tool.time, 'process_time', lambda: next(ticks))
    hook.before_train(runner)
    for runner.epoch in range(2):
        hook.before_train_epoch(runner)
        for _ in range(5):
            cosine.step()
        hook.after_train_epoch(runner)
        if runner.epoch == 0:
            assert (runner.train_loop.max_epochs, hook.epochs) == (10, 10)
    assert (runner.train_loop.max_epochs, runner.train_loop.max_iters, hook.epochs) == (5, 25, 5)
    assert (cosine.end, cosine.T_max) == (25, 25)
    assert switch.epoch_attributes == {0: 'start', 3: 'second stage'}  # 6 of 10 -> 3 of 5
    for _ in range(15):
        cosine.step()
    assert 0.1 <= optimizer.param_groups[0]['lr'] < 0.11  # 0.55 on the 50-step cosine

    runner = SimpleNamespace(train_loop=_Loop(10, 5), param_schedulers=[
        CosineAnnealingLR(optimizer, T_max=50, begin=0, end=50, by_epoch=False)], hooks=[],
        logger=logging.getLogger('budget'), epoch=0)
    hook = tool.CPUBudgetHook(budget=100.0)
    ticks = iter([0.0, 0.0, 5.0])
    hook.before_train(runner)
    hook.before_train_epoch(runner)
    hook.after_train_epoch(runner)
    assert (runner.train_loop.max_epochs, hook.epochs, runner.param_schedulers[0].end) == (
        20, 20, 100)


def test_the_step_clock_times_the_steps_after_the_warm_up(monkeypatch):
    clock, runner = tool.StepClockHook(warmup=2), type('Runner', (), {})()
    ticks = iter([10.0, 10.5, 11.0, 11.5])
    monkeypatch.setattr(tool.time, 'process_time', lambda: next(ticks))
    with pytest.raises(RuntimeError, match='no step was timed'):
        _ = clock.seconds_per_step
    for runner.iter in range(5):
        clock.after_train_iter(runner, runner.iter)
    assert clock.steps == 3 and clock.seconds_per_step == pytest.approx(0.5)


def test_detections_become_a_coco_bbox_file(tmp_path):
    from mmengine.structures import InstanceData
    from mmpose.structures import PoseDataSample
    result = PoseDataSample(pred_instances=InstanceData(
        bboxes=np.array([[10.0, 20.0, 50.0, 100.0]]), bbox_scores=np.array([0.75])))
    path = tool.write_bbox_file([(7, None, result)], tmp_path / 'boxes.json')
    assert json.loads(path.read_text()) == [
        dict(image_id=7, category_id=1, score=0.75, bbox=[10.0, 20.0, 40.0, 80.0])]


def test_part_aps_of_the_ground_truth_are_one_and_drop_when_a_part_moves(data_dir, tmp_path):
    ann_file = data_dir / 'annotations/coco_wholebody_val.json'
    truth = [dict(image_id=a['image_id'], category_id=1, score=1.0,
                  **{k: a[k] for k in PART_POINTS})
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
    (['--budget', '0'], '--budget must be > 0'),
    (['--seed', '-1'], '--seed >= 0'),
    (['--num-pictures', '0'], '--num-pictures >= 1'),
    (['--train-images', '4'], '--train-images must be >= 8'),
    (['--val-images', '0'], '--val-images >= 1'),
])
def test_the_tool_rejects_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit):
        tool.parse_args(argv)
    assert message in capsys.readouterr().err


def test_the_tool_defaults():
    args = tool.parse_args([])
    assert (args.seed, args.budget, args.train_images, args.val_images) == (0, 420.0, 400, 50)
    assert args.out.name == 'rtmw3d-wholebody2d' and args.data.name == 'rtmw3d-wholebody2d'


def test_latency_images_have_the_asked_people_and_the_clock_takes_the_median():
    for people in (1, 4):
        image, boxes = latency.image_with(people)
        assert image.shape == (128, 128, 3) and boxes.shape == (people, 4)
    calls = []
    ticks = iter(range(100))

    def call():
        calls.append(next(ticks))
    assert latency.median_ms(call, repeats=5) >= 0 and len(calls) == latency.WARMUP + 5


def test_the_latency_tool_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit):
        latency.parse_args(['--people', '0'])
    assert 'must be >= 1' in capsys.readouterr().err


@pytest.mark.slow
def test_the_demo_command_runs_as_documented(tmp_path):
    """``python projects/rtmw3d/tools/wholebody_2d.py`` in a fresh process on tiny inputs:
    both models calibrate, train on the budget and test; three rows, the detections, the
    picture; then ``wholebody_latency.py`` on its checkpoints."""
    out = tmp_path / 'out'
    command = [sys.executable, 'projects/rtmw3d/tools/wholebody_2d.py', '--train-images', '8',
               '--val-images', '2', '--budget', '2', '--num-pictures', '2', '--seed', '1',
               '--out', str(out), '--data', str(tmp_path / 'data')]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads((out / 'metrics.json').read_text())
    assert [(r['model'], r['people']) for r in rows] == [
        ('RTMO-tiny (one-stage)', 'finds them'), ('RTMW-tiny (top-down)', 'true boxes'),
        ('RTMW-tiny (top-down)', "RTMO's detections")]
    for row in rows:
        assert all(-1.0 <= row[k] <= 1.0 for k in row if k.endswith('AP') or k == 'AR')
        assert row['steps'] >= 2 and row['train CPU s'] > 0
    assert json.loads((out / 'rtmo_detections.json').read_text()) is not None
    assert (out / 'predictions.jpg').stat().st_size > 0
    assert 'CPU s per step' in done.stdout and 'cores, flags' in done.stdout
    command = [sys.executable, 'projects/rtmw3d/tools/wholebody_latency.py', '--checkpoints',
               str(out), '--people', '1', '2', '--repeats', '1', '--out', str(out)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads((out / 'latency.json').read_text())
    assert [r['people'] for r in rows] == [1, 2]
    assert all(r['one-stage ms'] > 0 and r['top-down, true boxes ms'] > 0 for r in rows)
