"""The steps every demo of this repository is made of: generate -> train -> evaluate -> table +
pictures.

``tools/demo.py`` (RTMO on synthetic people) and each project's demo under ``projects/`` write
their own data and configs, then call these functions in that order::

    from rtmo_plugin.lab import demo_runner as dr

    result = dr.train_and_test(cfg)               # mmengine Runner: train, then test the last
    table = dr.write_table(out, [dict(model='x', **result.metrics)])     # metrics.md + .json
    dr.save_tiles(out / 'predictions.jpg', pictures)                     # one picture
    print(dr.machine_line())                      # the CPU the numbers were measured on
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np

from ..utils import write_atomic

# the demos print dr.machine_line() and write dr.markdown_table(...)
from .report import machine_line, markdown_table, usable_cores  # noqa: F401

TRAIN_SCRIPT = Path(__file__).resolve().parents[1] / '.mim' / 'tools' / 'train.py'


@dataclass
class RunResult:
    """What :func:`train_and_test` leaves: test metrics, the final checkpoint, the logs."""
    metrics: Dict[str, float]
    checkpoint: Path
    scalars: Path                   # mmengine's LocalVisBackend records of the training run
    minutes: float                  # wall time of training plus testing
    extra: dict = field(default_factory=dict)


def default_procs() -> int:
    """Training processes of the demos: two CPU processes on a machine with 2+ cores and no
    GPU (one thread each), one process otherwise."""
    import torch
    return 1 if torch.cuda.is_available() else min(2, usable_cores())


def cached(data_dir, done: str, write: Callable[[], object], what: str,
           clean: bool = False) -> Path:
    """``data_dir`` as ``write()`` leaves it, written only when its file ``done`` (a path
    relative to ``data_dir``, the writer's last output) does not exist yet; later runs reuse
    it. ``clean``: remove a ``data_dir`` without ``done`` first (an interrupted run's)."""
    data_dir = Path(data_dir)
    if (data_dir / done).is_file():
        print(f'using cached {what}: {data_dir / done}')
        return data_dir
    if clean and data_dir.exists():
        print(f'removing the incomplete {data_dir}')
        shutil.rmtree(data_dir)
    print(f'generating {what} in {data_dir}')
    write()
    return data_dir


def cached_splits(data_dir, ann_name: str, counts: Mapping[str, int], write) -> Path:
    """Writes each split of ``counts`` (``{split: images}``) with ``write(split, count)``
    unless ``data_dir/annotations/<ann_name with {split}>`` exists; returns ``data_dir``."""
    for split, count in counts.items():
        cached(data_dir, f'annotations/{ann_name.format(split=split)}',
               partial(write, split, count), f'{split} split ({count} synthetic images)')
    return Path(data_dir)


def synthetic_coco(root, num_train: int, num_val: int, size: int, masks: bool = False) -> Path:
    """The synthetic COCO-keypoints set (:mod:`rtmo_plugin.synthetic`, seed 0) under ``root``,
    generated once per (generator version, size, counts, masks); later calls reuse it."""
    from ..synthetic import VERSION, write_split

    suffix = '-masks' if masks else ''
    data_dir = Path(root) / f'v{VERSION}-size{size}-train{num_train}-val{num_val}{suffix}-seed0'
    return cached_splits(data_dir, 'person_keypoints_{split}.json',
                         dict(train=num_train, val=num_val),
                         lambda split, count: write_split(data_dir, split, count, size, seed=0,
                                                          masks=masks))


def set_epochs(cfg, epochs: int) -> None:
    """Stretches ``cfg``'s schedule to ``epochs`` (in place), the one place the demos do it.

    Every epoch-based scheduler boundary and an ``RTMOModeSwitchHook``'s stage epochs stay at
    the same fraction of the schedule (a boundary after epoch 0 stays after it, a scheduler
    starts before the last epoch); the last scheduler ends with the loop, and a cosine's
    ``T_max`` is its new length. A pipeline switch (``switch_epoch``, as MMPose's
    ``stage2_num_epochs``) keeps its number of last epochs. The checkpoint is saved at the
    end. Iteration-based schedulers (a warm-up in steps) and the validation interval are
    left to the config and the caller."""
    old = cfg.train_cfg.max_epochs
    cfg.train_cfg.max_epochs = epochs

    def at_fraction(epoch: int) -> int:
        return max(1, round(epoch * epochs / old)) if epoch else 0

    schedulers = [s for s in cfg.get('param_scheduler') or [] if s.get('by_epoch', True)]
    for scheduler in schedulers:
        if 'begin' in scheduler:
            scheduler.begin = min(epochs - 1, at_fraction(scheduler.begin))
        if 'end' in scheduler:
            scheduler.end = max(scheduler.get('begin', 0) + 1, at_fraction(scheduler.end))
    if schedulers:
        schedulers[-1].end = epochs
    for scheduler in schedulers:
        if 'T_max' in scheduler:
            scheduler.T_max = scheduler.end - scheduler.get('begin', 0)
    cfg.default_hooks.checkpoint.interval = epochs
    for hook in cfg.get('custom_hooks', []):
        if hook.type == 'RTMOModeSwitchHook':
            hook.epoch_attributes = {at_fraction(e): attributes
                                     for e, attributes in hook.epoch_attributes.items()}
        if 'switch_epoch' in hook:
            hook.switch_epoch = max(1, epochs - (old - hook.switch_epoch))


def run_parser(doc: str, *, out: Path, data: Path, num_pictures: int,
               epochs: Optional[int] = None,
               epochs_help: str = "training epochs (default: the config's schedule)",
               config: Optional[Path] = None, cfg_options: bool = False
               ) -> argparse.ArgumentParser:
    """A demo's command line with the arguments the demos share: --out (the results), --data
    (where the generated dataset is cached), --epochs, --num-pictures, and --config /
    --cfg-options where ``config`` / ``cfg_options`` are given. ``doc``, the tool's docstring,
    is the description; the tool adds its own arguments and checks them with
    :func:`at_least`."""
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    if config is not None:
        parser.add_argument('--config', type=Path, default=config)
    parser.add_argument('--out', type=Path, default=out, help='results folder')
    parser.add_argument('--data', type=Path, default=data,
                        help='generated data (written once, reused while it exists)')
    parser.add_argument('--epochs', type=int, default=epochs, help=epochs_help)
    parser.add_argument('--num-pictures', type=int, default=num_pictures,
                        help='examples to draw')
    if cfg_options:
        from mmengine.config import DictAction
        parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                            help='override config keys, as in MMPose tools/train.py')
    return parser


def at_least(parser: argparse.ArgumentParser, args: argparse.Namespace, minimum: float,
             *options: str) -> None:
    """argparse's usage error naming each of ``options`` (e.g. ``'--epochs'``) whose value is
    below ``minimum``; an option left at None (not given, no default) passes."""
    low = [option for option in options
           if (value := getattr(args, option.lstrip('-').replace('-', '_'))) is not None
           and value < minimum]
    if low:
        parser.error(f'{", ".join(low)} must be >= {minimum}')


def train(cfg, procs: int = 1, hooks: Sequence = ()) -> Path:
    """Trains ``cfg`` (an mmengine ``Config`` with ``work_dir`` set) in ``procs`` processes.

    One process trains here with mmengine's Runner (with ``hooks``, hook instances, added);
    more run ``torchrun`` of the plugin's ``tools/train.py`` as CPU processes (gloo), each
    with ``cores // procs`` threads and ``batch_size / procs`` images, so the optimiser steps
    on the config's batch.

    The schedule and batch sizes are checked first (:func:`check_run_settings`), and the work
    dir is locked while training runs (:func:`work_dir_lock`: another live training there is
    refused).

    Returns:
        the training run's ``vis_data/scalars.json``.
    """
    from ..engine.run_settings import check_run_settings
    from ..engine.work_dir_lock import work_dir_lock

    if hooks and procs != 1:
        raise ValueError(f'train: hook instances need one process, got procs={procs}')
    check_run_settings(cfg)
    with work_dir_lock(cfg.work_dir):  # the torchrun workers share it (environment)
        return _train(cfg, procs, hooks)


def _train(cfg, procs: int, hooks: Sequence = ()) -> Path:
    if procs == 1:
        from mmengine.runner import Runner
        runner = Runner.from_cfg(_own_visualizer(cfg))
        for hook in hooks:
            runner.register_hook(hook)
        runner.train()
        return Path(runner.log_dir) / 'vis_data' / 'scalars.json'
    batch_size = cfg.train_dataloader.batch_size
    if batch_size % procs:
        raise ValueError(f'procs={procs} must divide train_dataloader.batch_size={batch_size}')
    work_dir = Path(cfg.work_dir)
    per_process = copy.deepcopy(cfg)
    per_process.train_dataloader.batch_size //= procs
    config = work_dir / 'train_config.py'
    per_process.dump(str(config))
    before = set(work_dir.glob('*/vis_data/scalars.json'))
    # CPU processes even on a GPU machine: `procs` may exceed the GPUs there
    env = dict(os.environ, OMP_NUM_THREADS=str(max(1, usable_cores() // procs)),
               CUDA_VISIBLE_DEVICES='')
    command = [sys.executable, '-m', 'torch.distributed.run', '--standalone',
               '--nproc-per-node', str(procs), str(TRAIN_SCRIPT), str(config),
               '--launcher', 'pytorch']
    if subprocess.run(command, env=env).returncode != 0:
        raise SystemExit(f'training failed (its log is above): {" ".join(command)}')
    new = set(work_dir.glob('*/vis_data/scalars.json')) - before
    if len(new) != 1:
        raise SystemExit(f'expected one new */vis_data/scalars.json in {work_dir} after '
                         f'training, found {len(new)}: is the LocalVisBackend configured?')
    return new.pop()


def _own_visualizer(cfg):
    """A copy of ``cfg`` whose Runner gets a visualizer of its own: mmengine hands a second
    Runner in the same process the first one's visualizer when the configs name it alike
    (MMPose's do), and the second run then logs into the first one's files. Without a name
    the Runner names it after its experiment."""
    cfg = copy.deepcopy(cfg)
    if cfg.get('visualizer') is not None:
        cfg.visualizer.pop('name', None)
    return cfg


def last_checkpoint(work_dir) -> Path:
    """The checkpoint mmengine's CheckpointHook saved last in ``work_dir``."""
    marker = Path(work_dir) / 'last_checkpoint'
    if not marker.is_file():
        raise FileNotFoundError(f'{marker} not found: did training save a checkpoint '
                                '(default_hooks.checkpoint)?')
    return Path(marker.read_text().strip())


def test(cfg, checkpoint) -> Dict[str, float]:
    """Tests ``checkpoint`` with ``cfg``'s test loader and evaluator; returns the metrics."""
    from mmengine.runner import Runner
    cfg = _own_visualizer(cfg)
    cfg.load_from = str(checkpoint)
    return dict(Runner.from_cfg(cfg).test())


def train_and_test(cfg, procs: int = 1) -> RunResult:
    """:func:`train`, then :func:`test` of the last checkpoint, timed."""
    start = time.time()
    scalars = train(cfg, procs)
    checkpoint = last_checkpoint(cfg.work_dir)
    metrics = test(cfg, checkpoint)
    return RunResult(metrics, checkpoint, scalars, (time.time() - start) / 60)


def _train_and_test_file(config_file: str, threads: int) -> RunResult:
    import torch
    from mmengine.config import Config
    torch.set_num_threads(threads)
    return train_and_test(Config.fromfile(config_file))


def train_and_test_side_by_side(cfgs: Sequence) -> List[RunResult]:
    """:func:`train_and_test` of each config at the same time, one process each (spawned,
    ``cores // len(cfgs)`` threads each, at least one): on 2 cores two models train in about
    the time of one, each on its config's whole batch (its BatchNorm sees every image).

    Each config is dumped to ``<work_dir>/side_by_side_config.py`` and rebuilt there, so
    it must survive :meth:`Config.dump` (as for :func:`train` with ``procs > 1``).
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    files = []
    for cfg in cfgs:
        work_dir = Path(cfg.work_dir)
        work_dir.mkdir(parents=True, exist_ok=True)
        cfg.dump(str(work_dir / 'side_by_side_config.py'))
        files.append(str(work_dir / 'side_by_side_config.py'))
    threads = max(1, usable_cores() // max(1, len(files)))
    context = multiprocessing.get_context('spawn')  # fresh torch per process
    with ProcessPoolExecutor(len(files), mp_context=context) as pool:
        futures = [pool.submit(_train_and_test_file, f, threads) for f in files]
        results = []
        for file, future in zip(files, futures):
            try:
                results.append(future.result())
            except Exception as error:  # name the run that failed, keep its traceback
                raise SystemExit(f'training {file} failed: {error!r} (its log is in '
                                 f'{Path(file).parent})') from error
    return results


def read_scalars(path) -> List[dict]:
    """The records mmengine's LocalVisBackend wrote, one JSON object per line."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def write_table(out_dir, rows: Sequence[Mapping], name: str = 'metrics',
                columns: Optional[Sequence[str]] = None, digits: int = 3,
                note: str = '') -> Path:
    """Writes ``<name>.md`` (the table, then ``note``) and ``<name>.json`` (the rows) in
    ``out_dir``; returns the ``.md`` path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    text = markdown_table(rows, columns, digits) + (f'\n{note}\n' if note else '')
    path = out_dir / f'{name}.md'
    write_atomic(path, text)
    write_atomic(out_dir / f'{name}.json', json.dumps(list(rows), indent=2, default=str))
    return path


def tile(images: Sequence[np.ndarray], columns: int = 3) -> np.ndarray:
    """Images (``[H, W, 3]``, any sizes) in a grid, ``columns`` wide, padded with black."""
    if not images:
        raise ValueError('tile: no images')
    height = max(i.shape[0] for i in images)
    width = max(i.shape[1] for i in images)
    cells = []
    for image in images:
        cell = np.zeros((height, width, 3), np.uint8)
        cell[:image.shape[0], :image.shape[1]] = image[..., :3]
        cells.append(cell)
    columns = min(columns, len(cells))
    cells += [np.zeros_like(cells[0])] * (-len(cells) % columns)  # fill the last row
    return np.vstack([np.hstack(cells[i:i + columns]) for i in range(0, len(cells), columns)])


def save_tiles(path, images: Sequence[np.ndarray], columns: int = 3) -> Path:
    """:func:`tile` of BGR images written to ``path`` (any format OpenCV writes)."""
    import cv2
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), tile(images, columns)):
        raise OSError(f'could not write {path}')
    return path
