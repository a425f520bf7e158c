"""Train a config with mmengine's Runner (what `mim train rtmo_plugin CONFIG` runs).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--cfg-options key=value ...] [--launcher none|pytorch|slurm|mpi]

Several processes: `torchrun --nproc-per-node N tools/train.py CONFIG --launcher pytorch`
or, on slurm, `srun ... python tools/train.py CONFIG --launcher slurm` (README,
"Training on several processes").

Refused before the Runner is built, with one `error: ...` line (exit status 1): a work dir
that a live training uses, unknown top-level `--cfg-options` keys (the closest known key
named), a schedule or batch size below 1, a `load_from` / `--resume` file that is not a
checkpoint; a checkpoint without an optimiser state, epoch or iteration is refused when
`--resume` loads it (docs/reliability.md).
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
    check_checkpoint_file,
)
from rtmo_plugin.data_checks import DataCheckError, explain_dataset_failure, explain_empty_dataset
from rtmo_plugin.engine.amp import apply_amp
from rtmo_plugin.engine.run_settings import SettingsError, check_cfg_options, check_run_settings
from rtmo_plugin.engine.work_dir_lock import WorkDirInUseError, work_dir_lock
from rtmo_plugin.launch import prepare_cpu_processes

# errors whose message says everything: printed as one line, no traceback
# (CheckpointMismatchError: a load_from that does not fit, named by KeypointFinetuneHook)
USER_ERRORS = (CheckpointFileError, CheckpointMismatchError, SettingsError, WorkDirInUseError)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train an RTMO / MMPose model.')
    parser.add_argument('config', help='config file')
    parser.add_argument('--work-dir', help='where logs and checkpoints go '
                        '(default: ./work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        help='resume from CKPT, or from the latest checkpoint of the '
                        'work dir when given without a value')
    parser.add_argument('--amp', action='store_true',
                        help='mixed-precision training: fp16 (loss-scaled) on a GPU, bf16 '
                        'autocast on a CPU with AVX512-BF16 or AMX (fp32 on other CPUs)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. train_dataloader.batch_size=8')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='how the processes were started')
    # torch.distributed.launch passes --local_rank (older) or --local-rank
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_config(args: argparse.Namespace) -> Config:
    """The config with the command line applied; raises :class:`SettingsError` for unknown
    top-level ``--cfg-options`` keys and settings below 1, :class:`CheckpointFileError` for a
    ``load_from`` / ``--resume`` file that is not a checkpoint."""
    cfg = Config.fromfile(args.config)
    check_cfg_options(cfg, args.cfg_options)
    cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or str(
        Path('work_dirs') / Path(args.config).stem)
    if args.amp:
        apply_amp(cfg)
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if cfg.get('resume'):  # a weights-only checkpoint: a clear error, not KeyError: 'epoch'
        cfg.custom_hooks = [*(cfg.get('custom_hooks') or []), dict(type='ResumeCheckHook')]
    check_run_settings(cfg)
    if cfg.get('load_from'):
        check_checkpoint_file(cfg.load_from)
    return cfg


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = None
    try:
        cfg = build_config(args)
        with work_dir_lock(cfg.work_dir, args.launcher):
            prepare_cpu_processes(cfg, args.launcher)
            Runner.from_cfg(cfg).train()
    except USER_ERRORS as err:
        raise SystemExit(f'error: {err}') from None
    except DataCheckError:
        raise
    except ValueError as err:
        if cfg is None or 'need at least one array to concatenate' not in str(err):
            raise_data_problems(cfg, err)
            raise
        # mmengine's failure on a dataset without annotations
        dataset = cfg.train_dataloader.dataset
        ann_file = os.path.join(dataset.get('data_root', ''), dataset.get('ann_file', '?'))
        raise DataCheckError(explain_empty_dataset(ann_file)) from err
    except (KeyError, TypeError, IndexError, AssertionError) as err:
        # (xtcocotools asserts that the file holds a dict)
        raise_data_problems(cfg, err)
        raise


def raise_data_problems(cfg, err: Exception) -> None:
    """Raises the problems of ``cfg``'s COCO-style annotation files, if they have any, from
    ``err`` (a failure MMPose's parsing gives without naming the entry at fault)."""
    why = explain_dataset_failure(cfg) if cfg is not None else None
    if why:
        raise DataCheckError(why) from err


if __name__ == '__main__':
    main()
