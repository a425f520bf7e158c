"""The training and test runners: a work dir in use is refused (a dead run's lock is not),
settings below 1 and unknown top-level --cfg-options keys are refused with the closest key,
files that are not checkpoints (or cannot be resumed from) are named as such."""
import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
import torch
from mmengine.config import Config
from reliability_fixtures import DEMO_CONFIG, tiny_cfg, write_tiny_config, write_tiny_set

from helpers import REPO, build_model, load_config, load_tool
from rtmo_plugin.checkpoint import (
    CheckpointFileError,
    check_checkpoint_file,
    check_resumable,
    load_checkpoint_file,
)
from rtmo_plugin.data_checks import DataCheckError
from rtmo_plugin.engine.run_settings import SettingsError, check_cfg_options, check_run_settings
from rtmo_plugin.engine.work_dir_lock import (
    ENV,
    LOCK_NAME,
    WorkDirInUseError,
    acquire,
    work_dir_lock,
)
from rtmo_plugin.lab import demo_runner as dr

LOCK_MODULE = REPO / 'rtmo_plugin' / 'engine' / 'work_dir_lock.py'


def tool_error(tool: str, argv) -> str:
    """The one-line error a tools/ script exits with."""
    with pytest.raises(SystemExit) as err:
        load_tool(tool).main([str(a) for a in argv])
    assert isinstance(err.value.code, str) and err.value.code.startswith('error: ')
    return err.value.code


@pytest.fixture
def tiny_config_file(tmp_path):
    """A tiny demo-model config on 4 generated images, as a file."""
    return write_tiny_config(tmp_path, tmp_path / 'work', checkpoint=True)


# the work dir lock --------------------------------------------------------------------


def hold_lock(work_dir):
    """A process holding ``work_dir``'s lock (the lock module alone: starts in a moment)."""
    code = textwrap.dedent(f'''
        import importlib.util, sys, time
        spec = importlib.util.spec_from_file_location('lock', {str(LOCK_MODULE)!r})
        lock = importlib.util.module_from_spec(spec)
        sys.modules['lock'] = lock
        spec.loader.exec_module(lock)
        with lock.work_dir_lock({str(work_dir)!r}):
            print('locked', flush=True)
            time.sleep(120)
        ''')
    env = {k: v for k, v in os.environ.items() if k != ENV}
    proc = subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE, text=True,
                            env=env)
    assert proc.stdout.readline().strip() == 'locked'
    return proc


def test_a_live_runs_work_dir_is_refused_and_a_killed_runs_is_not(tmp_path):
    work_dir = tmp_path / 'work'
    holder = hold_lock(work_dir)
    try:
        with pytest.raises(WorkDirInUseError) as err:
            acquire(work_dir)
        message = str(err.value)
        assert f'work dir {work_dir} is in use by another training (pid {holder.pid}' in message
        assert '--work-dir' in message
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # the killed run's lock file is still there, naming a dead pid: it does not block
    assert json.loads((work_dir / LOCK_NAME).read_text())['pid'] == holder.pid
    with work_dir_lock(work_dir) as lock:
        assert lock.fd is not None
    assert not (work_dir / LOCK_NAME).exists()  # removed when the run ends


def test_a_stale_lock_file_of_a_dead_pid_does_not_block(tmp_path):
    done = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                          capture_output=True, text=True, check=True)
    (tmp_path / LOCK_NAME).write_text(json.dumps(dict(pid=int(done.stdout), host='here')))
    with work_dir_lock(tmp_path) as lock:
        assert json.loads((tmp_path / LOCK_NAME).read_text())['pid'] == os.getpid()
        # code the holder runs (demo_runner.train's torchrun workers) shares its lock
        assert os.environ[ENV] == lock.token and acquire(tmp_path).fd is None
    assert ENV not in os.environ


def test_train_tool_and_demo_runner_refuse_a_work_dir_in_use(tiny_config_file, tmp_path):
    holder = hold_lock(tmp_path / 'work')
    try:
        message = tool_error('train', [tiny_config_file, '--work-dir', tmp_path / 'work'])
        assert 'is in use by another training' in message
        with pytest.raises(WorkDirInUseError):
            dr.train(Config.fromfile(str(tiny_config_file)))
    finally:
        holder.kill()
        holder.wait()
    assert not list((tmp_path / 'work').glob('2*'))  # no run started: no log folder


def test_only_rank_zero_locks(tmp_path, monkeypatch):
    monkeypatch.setenv('RANK', '1')
    with work_dir_lock(tmp_path, 'pytorch') as lock:
        assert lock is None and not (tmp_path / LOCK_NAME).exists()


# settings -----------------------------------------------------------------------------


@pytest.mark.parametrize('key, value', [
    ('train_cfg.max_epochs', 0), ('train_cfg.max_epochs', -1), ('train_cfg.val_interval', 0),
    ('train_dataloader.batch_size', 0), ('test_dataloader.batch_size', -2)])
def test_settings_below_one_are_refused(key, value):
    cfg = load_config(DEMO_CONFIG)
    cfg.merge_from_dict({key: value})
    with pytest.raises(SettingsError, match=rf'{key}={value}: must be an integer >= 1'):
        check_run_settings(cfg)


def test_iteration_based_schedules_are_checked_too():
    cfg = Config(dict(train_cfg=dict(type='IterBasedTrainLoop', max_iters=0)))
    with pytest.raises(SettingsError, match='train_cfg.max_iters=0'):
        check_run_settings(cfg)
    check_run_settings(Config(dict(train_cfg=dict(type='IterBasedTrainLoop', max_iters=3))))


@pytest.mark.parametrize('option, suggestion', [
    ('max_epoch', 'train_cfg.max_epochs'), ('randomnes.seed', 'randomness.seed'),
    ('work_dirr', 'work_dir')])
def test_unknown_top_level_options_name_the_closest_key(option, suggestion):
    cfg = load_config(DEMO_CONFIG)
    with pytest.raises(SettingsError, match=rf'{option}=1: .* so it would be ignored; did you '
                       rf'mean {suggestion}\?'):
        check_cfg_options(cfg, {option: 1})


def test_known_keys_and_keys_nested_under_them_pass():
    cfg = load_config(DEMO_CONFIG)
    check_cfg_options(cfg, {'train_cfg.max_epochs': 2, 'load_from': 'x.pth',
                            'train_cfg.anything_else': 1, 'experiment_name': 'e'})


def test_train_and_test_tools_refuse_bad_settings_before_building(tiny_config_file, tmp_path):
    for argv in (['--cfg-options', 'max_epoch=1'],
                 ['--cfg-options', 'train_cfg.max_epochs=0']):
        message = tool_error('train', [tiny_config_file, *argv])
        assert ('did you mean train_cfg.max_epochs?' in message
                or 'train_cfg.max_epochs=0: must be an integer >= 1' in message)
    message = tool_error('test', [tiny_config_file, 'x.pth', '--cfg-options',
                                  'test_dataloader.batch_size=0'])
    assert 'test_dataloader.batch_size=0: must be an integer >= 1' in message
    assert not (tmp_path / 'work').exists()


# checkpoint files ---------------------------------------------------------------------


def jpeg(path):
    """A JPEG image under any file name."""
    import cv2
    import numpy as np
    ok, data = cv2.imencode('.jpg', np.zeros((8, 8, 3), np.uint8))
    assert ok
    path.write_bytes(data.tobytes())
    return path


def test_a_file_that_is_not_a_checkpoint_is_called_so(tmp_path):
    photo = jpeg(tmp_path / 'photo.pth')
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    with pytest.raises(CheckpointFileError) as err:
        load_checkpoint_file(photo)
    assert str(err.value).startswith(f'{photo} is not a checkpoint (it looks like a JPEG')
    assert 'weights_only' not in str(err.value)
    with pytest.raises(CheckpointFileError, match=r'is not a checkpoint \(an empty file'):
        check_checkpoint_file(empty)
    torch.save({'a': torch.ones(1)}, tmp_path / 'real.pth')
    check_checkpoint_file(tmp_path / 'real.pth')
    torch.save({'a': 1}, tmp_path / 'legacy.pth', _use_new_zipfile_serialization=False)
    check_checkpoint_file(tmp_path / 'legacy.pth')


class Payload:
    def __reduce__(self):
        return os.system, ('true',)


def test_a_refused_pickle_names_the_file_without_advice_to_load_it_unsafely(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'x': Payload()}, path)
    with pytest.raises(CheckpointFileError) as err:
        load_checkpoint_file(path)
    message = str(err.value)
    assert message.startswith(f'{path} was refused by the safe checkpoint loader')
    assert 'system' in message and 'weights_only' not in message


def test_tools_call_a_jpeg_not_a_checkpoint(tiny_config_file, tmp_path):
    photo = jpeg(tmp_path / 'photo.jpg')
    for tool, argv in (('test', [tiny_config_file, photo]),
                       ('train', [tiny_config_file, '--resume', photo]),
                       ('train', [tiny_config_file, '--cfg-options', f'load_from={photo}'])):
        message = tool_error(tool, argv)
        assert f'{photo} is not a checkpoint (it looks like a JPEG image)' in message
        assert 'weights_only' not in message


def test_resumable_checkpoints_hold_epoch_optimiser_and_message_hub():
    full = dict(meta=dict(epoch=1, iter=2), message_hub={}, optimizer={}, state_dict={})
    check_resumable(full, 'full.pth')
    with pytest.raises(CheckpointFileError) as err:
        check_resumable(dict(state_dict={}, meta=dict(mmpose_version='1.3')), 'w.pth')
    message = str(err.value)
    assert message.startswith('w.pth cannot be resumed from: it has no meta.epoch, meta.iter,'
                              ' message_hub, optimizer (a weights-only checkpoint')
    assert 'load_from=w.pth' in message


@pytest.mark.slow
def test_resume_from_a_weights_only_checkpoint_is_a_clear_error(tiny_config_file, tmp_path):
    """It used to end in KeyError: 'epoch' inside mmengine's Runner.resume."""
    weights = tmp_path / 'weights.pth'
    torch.save(dict(state_dict=build_model(DEMO_CONFIG).state_dict()), weights)
    message = tool_error('train', [tiny_config_file, '--resume', weights, '--work-dir',
                                   tmp_path / 'work'])
    assert f'{weights} cannot be resumed from: it has no meta.epoch' in message


def test_the_lock_module_imports_alone():
    """hold_lock() loads it without the package: it must not need torch or mmengine."""
    spec = importlib.util.spec_from_file_location('lock_alone', LOCK_MODULE)
    assert spec is not None
    source = LOCK_MODULE.read_text()
    assert 'import torch' not in source and 'mmengine' not in source


def test_a_work_dir_that_cannot_be_made_is_one_line(tiny_config_file, tmp_path):
    """--work-dir naming a file, or a folder under a file: FileExistsError /
    NotADirectoryError tracebacks from the lock before; one line naming the work dir now."""
    a_file = tmp_path / 'photo.jpg'
    a_file.write_bytes(b'not a folder')
    for work_dir, what in ((a_file, 'is a file'), (a_file / 'sub', 'Not a directory')):
        message = tool_error('train', [tiny_config_file, '--work-dir', work_dir])
        assert message == (f'error: work dir {work_dir} cannot be used ({what}); give another '
                           '--work-dir (a folder, made if missing)')
    assert a_file.read_bytes() == b'not a folder'


def test_test_tool_names_a_work_dir_that_cannot_be_made(tiny_config_file, tmp_path):
    """tools/test.py --work-dir naming a file: mmengine's FileExistsError traceback before."""
    a_file = tmp_path / 'photo.jpg'
    a_file.write_bytes(b'not a folder')
    checkpoint = tmp_path / 'model.pth'
    torch.save({'state_dict': build_model(Config.fromfile(str(tiny_config_file))).state_dict()},
               checkpoint)
    message = tool_error('test', [tiny_config_file, checkpoint, '--work-dir', a_file])
    assert message == (f'error: work dir {a_file} cannot be used (is a file); give another '
                       '--work-dir (a folder, made if missing)')


@pytest.mark.slow
def test_train_names_a_load_from_of_another_model_size_in_one_line(tiny_config_file, tmp_path):
    """KeypointFinetuneHook refuses it inside runner.train(): one line, not a traceback."""
    state = dict(build_model(load_config(DEMO_CONFIG), seed=0).state_dict())
    key = next(k for k in state if k.startswith('backbone') and state[k].ndim == 4)
    state[key] = torch.zeros(state[key].shape[0] * 2, *state[key].shape[1:])
    ckpt = tmp_path / 'other_size.pth'
    torch.save({'state_dict': state, 'meta': {}}, ckpt)
    message = tool_error('train', [tiny_config_file, '--cfg-options', f'load_from={ckpt}'])
    assert key in message and str(ckpt) in message


@pytest.mark.slow
def test_train_names_an_annotation_file_that_is_not_a_coco_object(tmp_path):
    """xtcocotools asserts that the file holds a dict (a bare AssertionError)."""
    write_tiny_set(tmp_path / 'data')
    bad = tmp_path / 'data' / 'annotations' / 'list.json'
    bad.write_text('[]')
    path = tmp_path / 'list.py'
    Config(tiny_cfg(tmp_path / 'data', tmp_path / 'work', ann_file=bad).to_dict()).dump(str(path))
    with pytest.raises(DataCheckError, match=str(bad)):
        load_tool('train').main([str(path)])


def test_configs_are_found_from_the_working_directory_then_the_repository(tmp_path,
                                                                           monkeypatch):
    """The deploy CLI and the tools take a user's relative config path from where they run;
    a missing one is named as given, with both places looked at."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'mine.py').write_text('answer = 42\n')
    assert load_config('mine.py').answer == 42
    assert load_config('configs/demo/rtmo-demo_synthetic-128x128.py').model.type == \
        'BottomupPoseEstimator'
    with pytest.raises(FileNotFoundError) as err:
        load_config('nope.py')
    assert str(err.value).startswith('config nope.py not found (looked for '
                                     f"{tmp_path / 'nope.py'} and {REPO / 'nope.py'})")
