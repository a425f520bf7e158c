"""Every config shipped in configs/ loads, builds, and encodes the intended deltas."""
from pathlib import Path

import pytest

from helpers import REPO, build_model, load_config

CONFIGS = sorted(p.relative_to(REPO) for p in (REPO / 'configs').rglob('*.py')
                 if '_base_' not in p.parts and 'dataset_info' not in p.read_text())
KEYPOINTS = {'crowdpose': 14, 'wholebody': 133, 'cocktail14': 133, 'custom': 7}


def test_configs_are_found():
    assert len(CONFIGS) >= 4


@pytest.mark.parametrize('path', CONFIGS, ids=str)
def test_config_loads_and_builds(path: Path):
    cfg = load_config(path)
    assert cfg.custom_imports.imports == ['rtmo_plugin']
    model = build_model(cfg)
    expected = next((n for key, n in KEYPOINTS.items() if key in path.parts), 17)
    if type(model.head).__name__ == 'RTMOPoseHead':
        assert model.head.num_keypoints == expected
    else:  # RTMPose / RTMW top-down heads, with the plugin codec
        assert model.head.out_channels == expected
        assert type(model.head.decoder).__name__ == 'BoxSimCCLabel'


def test_size_deltas():
    def head(name):
        return load_config(f'configs/rtmo/coco/{name}').model.head

    s = head('rtmo-s_8xb32-600e_coco-640x640.py')
    m = head('rtmo-m_16xb16-600e_coco-640x640.py')
    large = head('rtmo-l_16xb16-600e_coco-640x640.py')
    assert (s.head_module_cfg.widen_factor, m.head_module_cfg.widen_factor,
            large.head_module_cfg.widen_factor) == (0.5, 0.75, 1.0)
    assert s.assigner.use_keypoints_for_center and not m.assigner.use_keypoints_for_center
    assert (s.loss_mle.loss_weight, m.loss_mle.loss_weight) == (1.0, 1e-2)
    hooks = load_config('configs/rtmo/coco/rtmo-l_16xb16-600e_coco-640x640.py').custom_hooks
    switch = next(h for h in hooks if h.type == 'RTMOModeSwitchHook')
    assert switch.epoch_attributes[280]['overlaps_power'] == 1.0
