"""Settings checked at build time (before any training step) and checkpoints of another model
refused by the loading paths the plugin controls."""
from types import SimpleNamespace

import pytest
import torch
from reliability_fixtures import DEMO_CONFIG

from helpers import load_tool
from rtmo_plugin.build import build_model, load_config
from rtmo_plugin.checkpoint import CheckpointMismatchError, compare_state_dict
from rtmo_plugin.engine.config_checks import InputSizeCheckHook, check_input_sizes
from rtmo_plugin.engine.run_settings import SettingsError

CROWDPOSE_METAINFO = 'configs/_base_/datasets/crowdpose.py'  # 14 keypoints


@pytest.mark.parametrize('nms_thr', [0, 1.5, -0.1, 'x'])
def test_nms_thr_out_of_range_fails_when_the_model_is_built(nms_thr):
    cfg = load_config(DEMO_CONFIG)
    cfg.model.test_cfg.nms_thr = nms_thr
    with pytest.raises(ValueError, match=r'model.test_cfg.nms_thr=.* must be a number in '
                       r'\(0, 1\]'):
        build_model(cfg)


def test_nms_thr_in_range_builds():
    cfg = load_config(DEMO_CONFIG)
    cfg.model.test_cfg.nms_thr = 1.0
    assert build_model(cfg).head.test_cfg['nms_thr'] == 1.0


def test_input_sizes_must_be_multiples_of_the_largest_stride():
    cfg = load_config(DEMO_CONFIG)
    check_input_sizes(cfg, 32)  # the shipped demo config is fine
    cfg.val_dataloader.dataset.pipeline[1].input_size = (100, 128)
    cfg.model.test_cfg.input_size = (100, 128)
    with pytest.raises(SettingsError) as err:
        check_input_sizes(cfg, 32)
    message = str(err.value)
    assert 'val_dataloader.dataset.pipeline[1].input_size=[100, 128]' in message
    assert 'model.test_cfg.input_size=[100, 128]' in message
    assert 'largest featmap stride (32)' in message


def test_size_hook_reads_the_stride_from_the_head():
    cfg = load_config(DEMO_CONFIG)
    cfg.train_dataloader.dataset.pipeline[1].input_size = (120, 120)
    runner = SimpleNamespace(cfg=cfg, model=build_model(cfg))
    with pytest.raises(SettingsError, match=r'train_dataloader.dataset.pipeline\[1\]'
                       r'.input_size=\[120, 120\]'):
        InputSizeCheckHook().before_train(runner)
    InputSizeCheckHook().before_test(runner)  # the test pipeline is fine


@pytest.fixture(scope='module')
def checkpoint_17(tmp_path_factory):
    """A checkpoint of the demo model (17 COCO keypoints), as mmengine writes one."""
    path = tmp_path_factory.mktemp('ckpt') / 'coco17.pth'
    model = build_model(DEMO_CONFIG)
    torch.save(dict(meta=dict(epoch=1), state_dict=model.state_dict()), path)
    return path


def config_14():
    cfg = load_config(DEMO_CONFIG)
    cfg.model.head.metainfo = CROWDPOSE_METAINFO
    return cfg


def test_checkpoint_of_another_keypoint_set_is_refused(checkpoint_17):
    with pytest.raises(CheckpointMismatchError) as err:
        build_model(config_14(), checkpoint=checkpoint_17)
    message = str(err.value)
    assert 'shape-mismatched' in message and 'out_kpt' in message
    assert 'another keypoint set' in message and 'partial=True' in message


def test_partial_load_is_an_explicit_opt_in(checkpoint_17, caplog):
    reference = torch.load(checkpoint_17)['state_dict']
    model = build_model(config_14(), checkpoint=checkpoint_17, partial=True)
    mismatch = compare_state_dict(model, reference)
    assert mismatch.shapes and not mismatch.missing and not mismatch.unexpected
    own = model.state_dict()
    bad = {key for key, _, _ in mismatch.shapes}
    assert all(torch.equal(own[k], v) for k, v in reference.items() if k not in bad)


def test_matching_checkpoint_loads_strictly(checkpoint_17):
    reference = torch.load(checkpoint_17)['state_dict']
    model = build_model(DEMO_CONFIG, checkpoint=checkpoint_17, seed=5)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in reference.items())


def test_test_tool_refuses_another_keypoint_set_and_names_the_option(checkpoint_17, tmp_path):
    from mmengine.config import Config
    cfg_file = tmp_path / 'crowd14.py'
    Config(config_14().to_dict()).dump(str(cfg_file))
    test_tool = load_tool('test')
    with pytest.raises(SystemExit) as err:
        test_tool.main([str(cfg_file), str(checkpoint_17), '--work-dir', str(tmp_path / 'w')])
    assert 'does not fit the model' in str(err.value) and '--partial-load' in str(err.value)


@pytest.mark.parametrize('tool', ['train', 'test'])
def test_tools_print_a_wrong_input_size_as_one_error_line(tool, checkpoint_17, tmp_path):
    """InputSizeCheckHook's SettingsError, raised inside the Runner, ends tools/train.py and
    tools/test.py as one ``error:`` line (a traceback from tools/test.py before)."""
    from reliability_fixtures import write_tiny_config

    def wrong_test_size(cfg):
        cfg.test_dataloader = cfg.val_dataloader
        cfg.model.test_cfg.input_size = (100, 100)

    cfg_file = write_tiny_config(tmp_path, tmp_path / 'work', wrong_test_size)
    argv = [str(cfg_file)] + ([str(checkpoint_17)] if tool == 'test' else [])
    with pytest.raises(SystemExit) as err:
        load_tool(tool).main(argv)
    assert str(err.value) == ('error: input sizes must be positive multiples of the largest '
                              'featmap stride (32) of model.head: model.test_cfg.input_size='
                              '[100, 100]; round them to multiples of 32')
