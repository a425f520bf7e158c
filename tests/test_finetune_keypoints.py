"""Fine-tuning from a 17-keypoint checkpoint into a 7-keypoint config with ``load_from``.

A tiny demo-size RTMO trains briefly on synthetic COCO figures (17 keypoints, random init,
nothing downloaded); its checkpoint is the ``load_from`` of the 7-keypoint config
(``configs/rtmo/custom/my_keypoints_metainfo.py``: nose, shoulders, elbows, wrists), whose
annotations are the same figures' 7 named points. The stock Runner trains it, with the
plugin's ``KeypointFinetuneHook`` from the base config, next to the same run from scratch.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from rtmo_plugin.build import load_config
from rtmo_plugin.checkpoint import CheckpointMismatchError
from rtmo_plugin.engine.finetune import head_keypoints, module_groups, sort_state_dict
from rtmo_plugin.lab import demo_runner as dr
from tiny_runs import _convert, tiny_config

DEMO_CONFIG = 'configs/demo/rtmo-demo_synthetic-128x128.py'
METAINFO = 'configs/rtmo/custom/my_keypoints_metainfo.py'
SIZE = 64
PRETRAIN_EPOCHS = 20   # 64 images, batch 8: 160 steps on 17 keypoints
FINETUNE_EPOCHS = 3    # 24 steps on 7 keypoints, fine-tuned and from scratch
# the tensors whose first dimension is (a multiple of) the keypoint count
KEYPOINT_SPECIFIC = {
    *(f'head.head_module.{layer}.{level}.{p}' for layer in ('out_kpt_reg', 'out_kpt_vis')
      for level in (0, 1) for p in ('weight', 'bias')),
    'head.dcc.pos_enc',
    'head.dcc.pose_to_kpts.0.weight', 'head.dcc.pose_to_kpts.0.bias',
    *(f'head.dcc.pose_to_kpts.1.{p}' for p in ('weight', 'bias', 'running_mean',
                                              'running_var')),
    'head.dcc.sigma_fc.0.weight', 'head.dcc.sigma_fc.0.bias',
    'head.loss_oks.sigmas',
}


class _StateAtStart(Hook):
    """The model's tensors at ``before_train``: after ``load_from``, before the first step."""

    priority = 'LOWEST'

    def before_train(self, runner) -> None:
        self.state = {k: v.detach().clone() for k, v in runner.model.state_dict().items()}


def _seven_keypoint_files(ann_dir: Path) -> dict:
    """The 7 named points of every figure, selected from the 17-keypoint files by name."""
    from mmengine.config import Config
    names = [k['name'] for k in Config.fromfile(METAINFO).dataset_info.keypoint_info.values()]
    files = {}
    for split in ('train', 'val'):
        coco = json.loads((ann_dir / f'person_keypoints_{split}.json').read_text())
        index = [coco['categories'][0]['keypoints'].index(name) for name in names]
        seven = _convert(coco, lambda kpts, index=index: [kpts[i] for i in index])
        seven['categories'][0].update(keypoints=names, skeleton=[])
        files[split] = ann_dir / f'my_keypoints_{split}.json'
        files[split].write_text(json.dumps(seven))
    return files


def _config(data_dir: Path, work_dir: Path, epochs: int, seven: dict | None = None):
    """The demo model at 64x64 on the synthetic set (17 keypoints, or the 7 of ``seven``)."""
    base = load_config(DEMO_CONFIG)
    # every run here at the COCO recipe's lr: 160 pretraining steps are too few at the 44-epoch
    # demo's 0.002
    base.optim_wrapper.optimizer.lr = 0.004
    ann_dir = data_dir / 'annotations'
    val_file = str(ann_dir / 'person_keypoints_val.json')
    if seven is not None:
        base.model.head.metainfo = METAINFO
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            base[key].dataset.metainfo = dict(from_file=METAINFO)
        val_file = str(seven['val'])
    data = dict(images=f'{data_dir}/train/', custom=str(seven['train']) if seven else None,
                CocoDataset=str(ann_dir / 'person_keypoints_train.json'))
    cfg = tiny_config(base, data, work_dir, bottomup_size=(SIZE, SIZE), num_train=None,
                      batch_size=8, num_test=16, checkpoint=True)
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key].dataset.update(ann_file=val_file, data_prefix=dict(img=f'{data_dir}/val/'))
    cfg.val_evaluator.ann_file = cfg.test_evaluator.ann_file = val_file
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=epochs, val_interval=epochs)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0,
                                end=epochs)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=epochs)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=4)
    cfg.log_processor = dict(window_size=4)
    cfg.visualizer.name = work_dir.name  # one visualizer instance per run in this process
    return cfg


@dataclass
class Run:
    start: dict          # the tensors before the first step
    scalars: list        # what LocalVisBackend logged
    log: str             # the run's log file


def _train(cfg) -> Run:
    runner = Runner.from_cfg(cfg)
    start = _StateAtStart()
    runner.register_hook(start)
    runner.train()
    log = Path(runner.log_dir) / f'{runner.timestamp}.log'
    scalars = dr.read_scalars(Path(runner.log_dir) / 'vis_data' / 'scalars.json')
    return Run(start.state, scalars, log.read_text())


@dataclass
class Experiment:
    checkpoint: Path
    ckpt_state: dict
    finetuned: Run
    scratch: Run
    data_dir: Path
    seven: dict


@pytest.fixture(scope='module')
def experiment(tmp_path_factory) -> Experiment:
    root = tmp_path_factory.mktemp('finetune')
    data_dir = dr.synthetic_coco(root / 'data', num_train=64, num_val=16, size=SIZE)
    seven = _seven_keypoint_files(data_dir / 'annotations')
    pretrain = _config(data_dir, root / 'pretrain17', PRETRAIN_EPOCHS)
    pretrain.val_dataloader = pretrain.val_cfg = pretrain.val_evaluator = None
    Runner.from_cfg(pretrain).train()
    checkpoint = dr.last_checkpoint(root / 'pretrain17')
    finetune = _config(data_dir, root / 'finetune7', FINETUNE_EPOCHS, seven)
    finetune.load_from = str(checkpoint)
    scratch = _config(data_dir, root / 'scratch7', FINETUNE_EPOCHS, seven)
    ckpt_state = torch.load(checkpoint, map_location='cpu')['state_dict']
    return Experiment(checkpoint, ckpt_state, _train(finetune), _train(scratch), data_dir, seven)


# -- the sorting, without training ------------------------------------------------------


def test_sorting_finds_keypoint_scaled_tensors_and_refuses_other_mismatches():
    own = dict(a=torch.zeros(3, 4), reg=torch.zeros(14), vis=torch.zeros(7, 5), new=torch.zeros(1))
    ckpt = dict(a=torch.ones(3, 4), reg=torch.ones(34), vis=torch.ones(17, 5), old=torch.ones(1))
    transfer = sort_state_dict(own, ckpt, num_keypoints=7)
    assert (transfer.ckpt_keypoints, transfer.loaded) == (17, ['a'])
    assert [k for k, _, _ in transfer.keypoint_specific] == ['reg', 'vis']
    assert (transfer.missing, transfer.unused, transfer.other_shapes) == (['new'], ['old'], [])
    # another width: only dim 0 differs but not as 7 -> 17 keypoints; a dim-1 change
    wider = dict(ckpt, a=torch.ones(3, 8), vis=torch.ones(16, 5))
    other = sort_state_dict(own, wider, num_keypoints=7, ckpt_keypoints=17)
    assert {k for k, _, _ in other.other_shapes} == {'a', 'vis'}
    assert module_groups(['backbone.stage1.0.conv.weight', 'backbone.stage1.1.bn.bias',
                          'head.dcc.pos_enc', 'neck.encoder.layers.0.w']) == [
        ('backbone.stage1', 2), ('head.dcc', 1), ('neck.encoder.layers', 1)]


# -- fine-tuning through the Runner -------------------------------------------------------


@pytest.mark.slow
def test_the_keypoint_count_is_read_from_rtmo_and_top_down_heads():
    """RTMO names it num_keypoints, MMPose's RegressionHead num_joints, RTMCCHead and the
    heatmap heads out_channels; a head with none is refused with the key to turn it off."""
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    init_default_scope('mmpose')
    regression = MODELS.build(dict(type='RegressionHead', in_channels=8, num_joints=29))
    rtmcc = MODELS.build(dict(
        type='RTMCCHead', in_channels=8, out_channels=14, input_size=(64, 64),
        in_featuremap_size=(2, 2), simcc_split_ratio=2.0, final_layer_kernel_size=1,
        gau_cfg=dict(hidden_dims=16, s=8, expansion_factor=2, dropout_rate=0.0,
                     drop_path=0.0, act_fn='SiLU', use_rel_bias=False, pos_enc=False),
        decoder=dict(type='SimCCLabel', input_size=(64, 64), sigma=(4.9, 5.66),
                     simcc_split_ratio=2.0)))
    assert (head_keypoints(regression), head_keypoints(rtmcc)) == (29, 14)
    with pytest.raises(AttributeError, match='keypoint_finetune=None'):
        head_keypoints(torch.nn.Linear(2, 2))


def test_loaded_tensors_equal_the_checkpoint(experiment):
    start, ckpt = experiment.finetuned.start, experiment.ckpt_state
    loaded = set(start) - KEYPOINT_SPECIFIC
    assert set(start) == set(ckpt) and len(loaded) > 400
    for key in loaded:
        assert torch.equal(start[key], ckpt[key]), key
    # the checkpoint is not the fresh initialisation: the equality above says something
    trained = [k for k in loaded if not torch.equal(ckpt[k], experiment.scratch.start[k])]
    assert {k.split('.')[0] for k in trained} == {'backbone', 'neck', 'head'}
    assert any(k.startswith('head.dcc.gau') for k in trained)


@pytest.mark.slow
def test_keypoint_specific_tensors_are_fresh(experiment):
    start, ckpt = experiment.finetuned.start, experiment.ckpt_state
    reinit = {k for k in start if start[k].shape != ckpt[k].shape}
    assert reinit == KEYPOINT_SPECIFIC
    for key in KEYPOINT_SPECIFIC:
        # the 7-keypoint model's own initialisation: the same as the run from scratch
        assert torch.equal(start[key], experiment.scratch.start[key]), key
        assert start[key].shape[0] * 17 == ckpt[key].shape[0] * 7, key
        if key == 'head.loss_oks.sigmas':  # from the metainfo: COCO's sigmas of the 7 points
            continue
        new = start[key].reshape(7, -1)
        old = ckpt[key].reshape(17, -1)
        for i in range(7):
            assert not any(torch.equal(new[i], old[j]) for j in range(17)), (key, i)
    sigmas = torch.tensor([0.026, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062])
    torch.testing.assert_close(start['head.loss_oks.sigmas'], sigmas)


@pytest.mark.slow
def test_log_names_loaded_and_reinitialised_tensors(experiment):
    log = experiment.finetuned.log
    summary = re.search(r'load_from .*: keypoints 17 \(checkpoint\) -> 7 \(model\); '
                        r'(\d+) tensors loaded, (\d+) re-initialised, 0 checkpoint tensors '
                        r'unused', log)
    assert summary, 'no load_from summary in the log'
    assert int(summary[2]) == len(KEYPOINT_SPECIFIC)
    assert int(summary[1]) == len(experiment.ckpt_state) - len(KEYPOINT_SPECIFIC)
    groups = re.search(r"loaded \(the checkpoint's values\), per module: (.*)", log)[1]
    for prefix in ('backbone.stem.conv', 'backbone.stage4', 'neck.encoder',
                   'head.head_module.conv_pose', 'head.dcc.gau'):
        assert f'{prefix} (' in groups, prefix
    for key in KEYPOINT_SPECIFIC:
        ckpt, model = experiment.ckpt_state[key].shape, experiment.finetuned.start[key].shape
        assert (f're-initialised {key}: keypoint-specific, shape mismatch: checkpoint '
                f'{list(ckpt)} vs model {list(model)}') in log
    assert 'size mismatch' not in log  # mmengine's own loader saw no mismatch
    assert 're-initialised' not in experiment.scratch.log


@pytest.mark.slow
def test_finetuned_beats_the_same_budget_from_scratch(experiment):
    # the training losses of the last 8 of the same 24 steps (same data, order and seed);
    # the val AP is printed only: after 24 steps it is near 0 for both
    def final(run: Run, term: str) -> float:
        values = [r[term] for r in run.scalars if term in r]
        return sum(values[-2:]) / 2
    runs = dict(finetuned=experiment.finetuned, scratch=experiment.scratch)
    ft, sc = ({term: final(run, term) for term in ('loss', 'loss_oks', 'loss_bbox', 'coco/AP')}
              for run in runs.values())
    print(f'after {FINETUNE_EPOCHS * 8} steps: fine-tuned {ft}, from scratch {sc}')
    assert ft['loss'] < sc['loss'] - 2.0
    assert ft['loss_oks'] < sc['loss_oks'] - 0.5  # the keypoints (regression OKS), not only boxes
    assert ft['loss_bbox'] < sc['loss_bbox']


@pytest.mark.slow
def test_checkpoint_of_another_model_size_is_an_error(experiment, tmp_path):
    cfg = _config(experiment.data_dir, tmp_path / 'wider', 1, experiment.seven)
    cfg.model.backbone.widen_factor = cfg.model.neck.widen_factor = 0.375
    cfg.model.head.head_module_cfg.widen_factor = 0.375
    cfg.load_from = str(experiment.checkpoint)
    with pytest.raises(CheckpointMismatchError, match='differ in more than the keypoint count.*'
                       'another model size.*keypoint_finetune=None'):
        Runner.from_cfg(cfg).train()
