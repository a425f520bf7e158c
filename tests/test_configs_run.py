"""Every config under configs/ trains one iteration and tests on tiny data (each project under
projects/ tests its own configs)."""
from pathlib import Path

import pytest
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from helpers import REPO, load_config
from tiny_runs import make_tiny_data, tiny_config

pytestmark = pytest.mark.slow  # subprocess runs / training experiments

CONFIGS = sorted(
    p.relative_to(REPO) for p in (REPO / 'configs').rglob('*.py')
    if '_base_' not in p.parts and 'dataset_info' not in p.read_text())
# the metric's headline key of each dataset kind
HEADLINE = {'crowdpose': 'crowdpose/AP(H)', 'wholebody': 'coco-wholebody/AP',
            'cocktail14': 'coco-wholebody/AP'}


@pytest.fixture(scope='session')
def tiny_data(coco_mini, tmp_path_factory) -> dict:
    return make_tiny_data(coco_mini.parent, tmp_path_factory.mktemp('tiny_data'))


def test_every_config_is_collected():
    names = {p.name for p in CONFIGS}
    assert len(CONFIGS) >= 16
    assert 'rtmo-l_16xb16-700e_crowdpose-640x640.py' in names
    assert 'rtmw-m_boxsimcc_8xb1024-270e_cocktail14-256x192.py' in names
    assert {'rtmo-l_16xb16-700e_body7-crowdpose-640x640.py',  # the seeds' headline models
            'rtmw-l_boxsimcc_8xb320-270e_cocktail14-384x288.py',
            'rtmw-x_boxsimcc_8xb320-270e_cocktail14-384x288.py'} <= names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_config_trains_and_tests_one_iteration(path: Path, tiny_data, tmp_path):
    cfg = tiny_config(load_config(path), tiny_data, tmp_path)
    init_default_scope('mmpose')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter >= 1  # one per tiny dataset (Body7 mixes two)
    metrics = runner.test()
    key = next((v for k, v in HEADLINE.items() if k in str(path)), 'coco/AP')
    assert key in metrics, sorted(metrics)
    assert -1.0 <= metrics[key] <= 1.0
