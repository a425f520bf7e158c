"""Evaluate a checkpoint with mmengine's Runner (what `mim test rtmo_plugin CONFIG
--checkpoint CKPT` runs).

    python tools/test.py CONFIG CKPT [--work-dir DIR] [--cfg-options key=value ...]
        [--launcher none|pytorch|slurm|mpi] [--partial-load]

A checkpoint whose tensors do not fit the config's model (another keypoint set, another
size) is refused with the mismatched keys named; ``--partial-load`` evaluates it anyway with
the matching tensors loaded and lists the rest. A file that is not a checkpoint, an unknown
top-level `--cfg-options` key (the closest known key named) and a batch size below 1 are
refused before the Runner is built, each with one `error: ...` line (exit status 1).
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import rtmo_plugin  # noqa: F401  (registers the plugin and its `rtmo_plugin::` configs)
from rtmo_plugin.checkpoint import (
    CheckpointFileError,
    CheckpointMismatchError,
    check_checkpoint,
    check_checkpoint_file,
)
from rtmo_plugin.data_checks import DataCheckError, explain_dataset_failure
from rtmo_plugin.engine.run_settings import SettingsError, check_cfg_options, check_run_settings
from rtmo_plugin.launch import prepare_cpu_processes

# errors whose message says everything: printed as one line, no traceback
USER_ERRORS = (CheckpointFileError, CheckpointMismatchError, SettingsError)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Evaluate an RTMO / MMPose checkpoint.')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file or URL')
    parser.add_argument('--work-dir', help='where the logs and metrics go '
                        '(default: ./work_dirs/<config name>)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. test_dataloader.batch_size=8')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='how the processes were started')
    parser.add_argument('--partial-load', action='store_true',
                        help='evaluate a checkpoint that only partly fits the model (the '
                        'matching tensors load, the rest is listed)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_config(args: argparse.Namespace) -> Config:
    """The config with the command line applied; raises :class:`SettingsError` for unknown
    top-level ``--cfg-options`` keys, a test batch size below 1 or a work dir that cannot be
    made, :class:`CheckpointFileError` for a checkpoint argument that is not a checkpoint."""
    cfg = Config.fromfile(args.config)
    check_cfg_options(cfg, args.cfg_options)
    cfg.merge_from_dict(args.cfg_options)
    check_run_settings(cfg, train=False)
    check_checkpoint_file(args.checkpoint)
    cfg.launcher = args.launcher
    cfg.load_from = args.checkpoint
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or str(
        Path('work_dirs') / Path(args.config).stem)
    try:
        Path(cfg.work_dir).mkdir(parents=True, exist_ok=True)
    except OSError as err:
        what = 'is a file' if Path(cfg.work_dir).is_file() else (err.strerror or str(err))
        raise SettingsError(f'work dir {cfg.work_dir} cannot be used ({what}); give another '
                            '--work-dir (a folder, made if missing)') from None
    return cfg


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        cfg = build_config(args)
        prepare_cpu_processes(cfg, args.launcher)
        runner = Runner.from_cfg(cfg)
        check_checkpoint(runner.model, args.checkpoint, partial=args.partial_load,
                         option='--partial-load')
    except USER_ERRORS as err:
        raise SystemExit(f'error: {err}') from None
    try:
        runner.test()
    except USER_ERRORS as err:  # e.g. InputSizeCheckHook's SettingsError
        raise SystemExit(f'error: {err}') from None
    except DataCheckError:
        raise
    except (KeyError, TypeError, IndexError, ValueError, AssertionError) as err:
        # (xtcocotools asserts that the file holds a dict)
        why = explain_dataset_failure(cfg)  # MMPose's parsing names no entry at fault
        if why:
            raise DataCheckError(why) from err
        raise


if __name__ == '__main__':
    main()
