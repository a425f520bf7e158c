"""tools/real_people.py and rtmo_plugin.lab.diagnostics: the two recipes are the same model, the
stock one keeps MMPose's schedule, and the branch errors are the head's own keypoints."""
import math

import numpy as np
import pytest
import torch

from helpers import load_tool
from rtmo_plugin.build import build_model, load_config
from rtmo_plugin.lab.diagnostics import best_oks, branch_keypoints


def test_best_oks_is_cocos_formula_over_labelled_keypoints():
    sigmas = np.array([0.1, 0.05, 0.2])
    gt = np.array([[10.0, 10.0, 2], [20.0, 10.0, 1], [0.0, 0.0, 0]])  # the third unlabelled
    area = 400.0
    far = np.array([[13.0, 14.0], [20.0, 10.0], [99.0, 99.0]])  # 5 px off at keypoint 0
    near = np.array([[10.0, 10.0], [21.0, 10.0], [0.0, 50.0]])  # 1 px off at keypoint 1
    oks, index = best_oks(np.stack([far, near]), gt, area, sigmas)
    expected_far = (math.exp(-25 / (2 * 0.2 ** 2 * area)) + 1) / 2
    expected_near = (1 + math.exp(-1 / (2 * 0.1 ** 2 * area))) / 2
    assert index == int(expected_near > expected_far)
    assert oks == pytest.approx(max(expected_far, expected_near), abs=1e-12)


def test_stock_recipe_is_the_same_model_on_mmposes_schedule():
    tool = load_tool('real_people')
    plugin = tool.plugin_config(None)
    stock = tool.stock_config(plugin)
    assert stock.model.head.type == 'RTMOHead' and plugin.model.head.type == 'RTMOPoseHead'
    # the same architecture: the stock model's weights load into the plugin's model strictly
    ours, theirs = build_model(plugin), build_model(stock)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    # MMPose's 600-epoch boundaries, scaled by the plugin's length over 600
    factor = plugin.train_cfg.max_epochs / 600
    switch = next(h for h in stock.custom_hooks if h.type == 'RTMOModeSwitchHook')
    assert list(switch.epoch_attributes) == [round(280 * factor)]
    last = next(h for h in stock.custom_hooks if h.type == 'YOLOXPoseModeSwitchHook')
    assert last.num_last_epochs == round(20 * factor)
    assert [s.end for s in stock.param_scheduler][-1] == plugin.train_cfg.max_epochs
    assert any(h.type == 'EMAHook' for h in stock.custom_hooks)
    assert stock.model.data_preprocessor.batch_augments[0].random_size_range == (
        round(480 * plugin.input_size[0] / 640), round(800 * plugin.input_size[0] / 640))
    for cfg in (plugin, stock):  # one input size everywhere
        assert tuple(cfg.model.test_cfg.input_size) == tuple(plugin.input_size)
        assert cfg.train_dataloader.batch_size == plugin.train_dataloader.batch_size


def test_branch_keypoints_dcc_equals_the_heads_predictions():
    cfg = load_config('configs/demo/rtmo-demo_coco-mini-320x320.py')
    model = build_model(cfg, seed=1).eval()
    inputs = torch.rand(1, 3, 64, 64) * 255
    from mmpose.structures import PoseDataSample
    sample = PoseDataSample(metainfo=dict(input_size=(64, 64)))
    preds = branch_keypoints(model, inputs, [sample])
    assert preds['dcc'].shape == preds['regression'].shape == (1, 16 + 4, 17, 2)
    feats = model.extract_feat(inputs)
    result = model.head.predict(feats, [sample], dict(score_thr=0.0, nms_thr=1.0))[0]
    outputs = model.head.forward(feats)
    scores = torch.cat([s.flatten() for s in outputs.cls_scores]).sigmoid()
    order = scores.argsort(descending=True)
    np.testing.assert_allclose(result.keypoints, preds['dcc'][0][order].numpy(), atol=1e-4)
    assert not torch.allclose(preds['dcc'], preds['regression'])


@pytest.mark.slow
def test_real_people_script_trains_both_recipes(coco_mini, tmp_path):
    rows = load_tool('real_people').main(['--data', str(coco_mini), '--epochs', '3', '--procs', '1',
                             '--out', str(tmp_path)])
    assert [r['recipe'] for r in rows] == ['plugin', 'mmpose-stock']
    for row in rows:
        assert 0 <= row['AP'] <= 1 and row['minutes'] > 0
        for branch in ('dcc', 'regression'):
            assert 0 < row[f'{branch}_best_oks'] <= 1
            assert 0 < row[f'{branch}_error_px'] < 1000
    table = (tmp_path / 'metrics.md').read_text()
    assert '| plugin |' in table and '| mmpose-stock |' in table and 'error_px' in table
