"""The demos' shared helpers in demo_runner: the data cache, the schedule stretch, the command
line."""
import pytest
from mmengine.config import Config

from rtmo_plugin.lab import demo_runner as dr


def test_cached_writes_once_and_cleans_an_interrupted_folder(tmp_path):
    data_dir = tmp_path / 'set'
    calls = []

    def write():
        calls.append(1)
        (data_dir / 'sub').mkdir(parents=True)
        (data_dir / 'sub' / 'done.json').write_text('{}')

    assert dr.cached(data_dir, 'sub/done.json', write, 'a set') == data_dir
    assert dr.cached(data_dir, 'sub/done.json', write, 'a set') == data_dir
    assert calls == [1]  # the second call reused it
    (data_dir / 'sub' / 'done.json').unlink()
    (data_dir / 'stale.txt').write_text('left by an interrupted run')
    dr.cached(data_dir, 'sub/done.json', write, 'a set', clean=True)
    assert calls == [1, 1] and not (data_dir / 'stale.txt').exists()


def _rtmpose_like(epochs=15) -> Config:
    """RTMPose's schedule shape: a warm-up in steps, a cosine over the second half, the
    milder pipeline for the last epoch."""
    return Config(dict(
        train_cfg=dict(max_epochs=epochs),
        param_scheduler=[
            dict(type='LinearLR', by_epoch=False, begin=0, end=10),
            dict(type='CosineAnnealingLR', by_epoch=True, begin=epochs // 2, end=epochs,
                 T_max=epochs - epochs // 2)],
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=10)),
        custom_hooks=[dict(type='mmdet.PipelineSwitchHook', switch_epoch=epochs - 1)]))


@pytest.mark.parametrize('epochs, begin', [(1, 0), (4, 2), (15, 7), (30, 14)])
def test_set_epochs_keeps_the_cosine_at_its_fraction_and_the_switch_at_the_end(epochs, begin):
    cfg = _rtmpose_like()
    dr.set_epochs(cfg, epochs)
    warmup, cosine = cfg.param_scheduler
    assert (warmup.begin, warmup.end) == (0, 10)  # steps, not epochs: untouched
    assert (cosine.begin, cosine.end, cosine.T_max) == (begin, epochs, epochs - begin)
    assert cfg.custom_hooks[0].switch_epoch == max(1, epochs - 1)
    assert cfg.default_hooks.checkpoint.interval == epochs


def test_set_epochs_without_schedulers():
    cfg = Config({k: v for k, v in _rtmpose_like().to_dict().items() if k != 'param_scheduler'})
    dr.set_epochs(cfg, 3)
    assert cfg.train_cfg.max_epochs == 3 and 'param_scheduler' not in cfg


def test_run_parser_shares_the_demo_arguments_and_at_least_names_each_bad_one(tmp_path, capsys):
    parser = dr.run_parser('doc', out=tmp_path / 'out', data=tmp_path / 'data', num_pictures=3,
                           epochs=5, config=tmp_path / 'c.py', cfg_options=True)
    args = parser.parse_args(['--cfg-options', 'a.b=1'])
    assert (args.out, args.data, args.config) == (tmp_path / 'out', tmp_path / 'data',
                                                  tmp_path / 'c.py')
    assert (args.epochs, args.num_pictures, args.cfg_options) == (5, 3, {'a.b': 1})
    dr.at_least(parser, args, 1, '--epochs', '--num-pictures')  # passes
    args = parser.parse_args(['--epochs', '0', '--num-pictures', '0'])
    with pytest.raises(SystemExit):
        dr.at_least(parser, args, 1, '--epochs', '--num-pictures')
    assert '--epochs, --num-pictures must be >= 1' in capsys.readouterr().err
    bare = dr.run_parser('doc', out=tmp_path, data=tmp_path, num_pictures=1).parse_args([])
    assert bare.epochs is None and not hasattr(bare, 'config')
    dr.at_least(parser, bare, 2, '--epochs')  # None: not given, passes


def test_train_takes_hook_instances_only_in_one_process(tmp_path):
    cfg = Config(dict(work_dir=str(tmp_path)))
    with pytest.raises(ValueError, match='hook instances need one process, got procs=2'):
        dr.train(cfg, procs=2, hooks=[object()])
