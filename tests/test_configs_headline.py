"""The plugin's RTMPose/RTMW and Body7 -> CrowdPose RTMO configs equal MMPose's own, value
for value, apart from the plugin's parts; MMPose's RTMW-l/x 384x288 weights load into the
plugin's models, whose codec decodes their outputs to MMPose's keypoints."""
import numpy as np
import pytest
import torch

from helpers import load_config
from rtmo_plugin.lab.builders import mmpose_configs
from tiny_runs import RUNNER_KEYS

# plugin config -> MMPose's config of the same model (under mmpose/.mim/configs)
TOP_DOWN = {
    'configs/rtmpose/coco/rtmpose-t_boxsimcc_8xb256-420e_coco-256x192.py':
        'body_2d_keypoint/rtmpose/coco/rtmpose-t_8xb256-420e_coco-256x192.py',
    'configs/rtmw/cocktail14/rtmw-m_boxsimcc_8xb1024-270e_cocktail14-256x192.py':
        'wholebody_2d_keypoint/rtmpose/cocktail14/rtmw-m_8xb1024-270e_cocktail14-256x192.py',
    'configs/rtmw/cocktail14/rtmw-l_boxsimcc_8xb320-270e_cocktail14-384x288.py':
        'wholebody_2d_keypoint/rtmpose/cocktail14/rtmw-l_8xb320-270e_cocktail14-384x288.py',
    'configs/rtmw/cocktail14/rtmw-x_boxsimcc_8xb320-270e_cocktail14-384x288.py':
        'wholebody_2d_keypoint/rtmpose/cocktail14/rtmw-x_8xb320-270e_cocktail14-384x288.py',
    # the distillation teacher: the plugin's RTMW-m with MMPose's RTMW-m -> RTMW-l delta
    'projects/rtmw3d/configs/distill/rtmw-l_boxsimcc_8xb1024-270e_cocktail14-256x192.py':
        'wholebody_2d_keypoint/rtmpose/cocktail14/rtmw-l_8xb1024-270e_cocktail14-256x192.py',
}
BODY7_CROWDPOSE = 'configs/rtmo/crowdpose/rtmo-l_16xb16-700e_body7-crowdpose-640x640.py'


def plain(node):
    """A config node as plain dicts and lists, without mmengine's ``_scope_`` marks."""
    if isinstance(node, dict):
        return {k: plain(v) for k, v in node.items() if k != '_scope_'}
    if isinstance(node, (list, tuple)):
        return [plain(v) for v in node]
    return node


def differences(ours, theirs, path=''):
    """Every path at which two plain config nodes differ."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in sorted(set(ours) | set(theirs), key=str):
            where = f'{path}.{key}'.lstrip('.')
            if key not in theirs:
                yield f'{where} (plugin only)'
            elif key not in ours:
                yield f'{where} (MMPose only)'
            else:
                yield from differences(ours[key], theirs[key], where)
    elif isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        for i, (a, b) in enumerate(zip(ours, theirs)):
            yield from differences(a, b, f'{path}[{i}]')
    elif ours != theirs:
        yield f'{path}: {ours!r} vs {theirs!r}'


def with_box_simcc(node):
    """MMPose's config with every SimCCLabel replaced as the plugin's configs replace it:
    the same bins and labels; ``use_dark`` must be off, ``decode_visibility`` (a separate
    ``keypoints_visible`` output, read by no metric) is dropped."""
    if isinstance(node, dict):
        if node.get('type') == 'SimCCLabel':
            assert not node.get('use_dark'), node
            return dict(type='BoxSimCCLabel', input_size=node['input_size'],
                        sigma=node['sigma'], simcc_split_ratio=node['simcc_split_ratio'],
                        normalize=node['normalize'])
        return {k: with_box_simcc(v) for k, v in node.items()}
    if isinstance(node, list):
        return [with_box_simcc(v) for v in node]
    return node


def runner_dicts(ours: str, theirs: str):
    ours_cfg, theirs_cfg = load_config(ours), load_config(mmpose_configs() / theirs)
    keys = sorted(RUNNER_KEYS - {'custom_imports'})
    return ({k: plain(ours_cfg.get(k)) for k in keys},
            {k: plain(theirs_cfg.get(k)) for k in keys})


@pytest.mark.parametrize('ours', sorted(TOP_DOWN))
def test_top_down_configs_are_mmposes_with_the_plugin_codec(ours):
    mine, theirs = runner_dicts(ours, TOP_DOWN[ours])
    assert list(differences(mine, with_box_simcc(theirs))) == []
    assert mine['model']['head']['decoder']['type'] == 'BoxSimCCLabel'


def _sorted_mappings(node):
    """KeypointConverter mappings as sorted pairs (their order does not matter)."""
    if isinstance(node, dict):
        if node.get('type') == 'KeypointConverter':
            return dict(node, mapping=sorted(map(list, node['mapping'])))
        return {k: _sorted_mappings(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_sorted_mappings(v) for v in node]
    return node


def test_body7_crowdpose_config_is_mmposes_with_the_plugin_head():
    mine, theirs = runner_dicts(BODY7_CROWDPOSE, 'body_2d_keypoint/rtmo/crowdpose/'
                                'rtmo-l_16xb16-700e_body7-crowdpose-640x640.py')
    found = set(differences(_sorted_mappings(mine), _sorted_mappings(theirs)))
    # the plugin's own checks (hooks and optimiser wrapper) may grow: not a recipe difference
    found = {d for d in found if not (d.startswith('default_hooks.') and 'plugin only' in d)}
    assert found == {
        # the plugin's head: keypoint count and OKS sigmas from one metainfo file, its codec
        # and loss; DCC sizes from the codec and the neck
        "model.head.type: 'RTMOPoseHead' vs 'RTMOHead'",
        'model.head.metainfo (plugin only)', 'model.head.num_keypoints (MMPose only)',
        'model.head.codec (plugin only)', 'model.head.dcc_cfg.in_channels (MMPose only)',
        'model.head.dcc_cfg.num_bins (MMPose only)',
        'model.head.head_module_cfg.num_classes (MMPose only)',
        'model.head.assigner.oks_calculator.metainfo (MMPose only)',
        'model.head.loss_oks.metainfo (MMPose only)',
        "model.head.loss_mle.type: 'MLECoordLoss' vs 'MLECCLoss'",
        # MMPose's SimOTAAssigner default, stated
        'model.head.assigner.use_keypoints_for_center (plugin only)',
        # the finite-step optimiser wrapper
        "optim_wrapper.type: 'FiniteOptimWrapper' vs 'OptimWrapper'",
        'optim_wrapper.max_consecutive_bad_steps (plugin only)',
        # the crowd metric reads crowd_index from the annotation file (see the base config)
        'val_evaluator.ann_file (plugin only)', 'test_evaluator.ann_file (plugin only)',
        'val_dataloader.dataset.metainfo (plugin only)',
        'test_dataloader.dataset.metainfo (plugin only)',
    }, sorted(found)
    assert mine['model']['head']['loss_mle']['loss_weight'] == 1e-3
    assert not mine['model']['head']['assigner']['use_keypoints_for_center']


def _released_pair(size: str):
    ours = next(p for p in TOP_DOWN if f'rtmw-{size}_' in p and '384x288' in p)
    return ours, mmpose_configs() / TOP_DOWN[ours]


@pytest.mark.parametrize('size', ['l', 'x'])
def test_released_rtmw_384_layout_loads_strictly(size):
    """MMPose's model built from its own config has its released checkpoint's keys and
    shapes; its state dict loads into the plugin's model with ``strict=True`` (tensors on
    the meta device: the layout without the memory)."""
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    init_default_scope('mmpose')
    with torch.device('meta'):
        ours, theirs = (MODELS.build(load_config(p).model) for p in _released_pair(size))
    state = theirs.state_dict()
    assert state['head.cls_x.weight'].shape == (576, 256)  # 288 px x 2 bins per px
    assert state['head.cls_y.weight'].shape == (768, 256)
    ours.load_state_dict(state, strict=True, assign=True)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: v.shape for k, v in state.items()}


@pytest.mark.parametrize('size', ['l', 'x'])
def test_released_rtmw_384_outputs_decode_alike(size):
    """The models share MMPose's backbone, neck and RTMWHead (the layout above): on the same
    weights their SimCC outputs are the same, and the plugin's codec decodes them to MMPose's
    keypoints and scores."""
    from mmpose.registry import KEYPOINT_CODECS

    ours, theirs = (KEYPOINT_CODECS.build(load_config(p).model.head.decoder)
                    for p in _released_pair(size))
    rng = np.random.default_rng(0)
    simcc_x = rng.standard_normal((1, 133, 576)).astype(np.float32)  # RTMWHead's outputs
    simcc_y = rng.standard_normal((1, 133, 768)).astype(np.float32)
    ours_keypoints, ours_scores = ours.decode(simcc_x, simcc_y)
    theirs_keypoints, (theirs_scores, _) = theirs.decode(simcc_x, simcc_y)
    np.testing.assert_allclose(ours_keypoints, theirs_keypoints, atol=1e-5)
    np.testing.assert_allclose(ours_scores, theirs_scores, atol=1e-6)


def test_boxsimcc_recipe_swaps_only_the_codec_type():
    from rtmo_plugin.codecs.simcc_swap import boxsimcc_recipe

    simcc = dict(type='SimCCLabel', input_size=(192, 256), sigma=(4.9, 5.66),
                 simcc_split_ratio=2.0, normalize=False, use_dark=False)
    target = dict(type='GenerateTarget', encoder=simcc)
    hooks = [dict(type='EMAHook'), dict(type='mmdet.PipelineSwitchHook', switch_pipeline=[])]
    codec, stage1, stage2, loader, new_hooks, model = boxsimcc_recipe(
        simcc, [dict(type='LoadImage'), target], [target], hooks)
    assert codec == dict(type='BoxSimCCLabel', input_size=(192, 256), sigma=(4.9, 5.66),
                         simcc_split_ratio=2.0, normalize=False)
    assert stage1 == [dict(type='LoadImage'), dict(type='GenerateTarget', encoder=codec)]
    assert stage2 == [dict(type='GenerateTarget', encoder=codec)]
    assert loader == dict(dataset=dict(pipeline=stage1))
    assert new_hooks == [hooks[0], dict(hooks[1], switch_pipeline=stage2)]
    assert model == dict(head=dict(decoder=dict(codec, _delete_=True)))
    assert target['encoder'] is simcc and hooks[1]['switch_pipeline'] == []  # inputs untouched
    for bad, why in ((dict(simcc, use_dark=True), 'use_dark'),
                     (dict(simcc, type='MSRAHeatmap'), "'MSRAHeatmap'")):
        with pytest.raises(ValueError, match=why):
            boxsimcc_recipe(bad, [], [], [])
