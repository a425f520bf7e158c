"""Run settings checked where they enter: the schedule, the batch sizes and the top-level keys
of ``--cfg-options``.

mmengine trains ``max_epochs=0`` (or ``-1``) without a word, ends with exit status 0 and saves
nothing; ``--cfg-options max_epoch=1`` (a typo of ``train_cfg.max_epochs``) adds a top-level
key that nothing reads. ``tools/train.py`` / ``tools/test.py`` (what ``mim train`` / ``mim
test`` run) and :func:`rtmo_plugin.lab.demo_runner.train` check them before the Runner is built.

Unknown keys nested under a known one (``train_cfg.max_epoch``) are left to mmengine: many
components take free-form keyword arguments.
"""
from __future__ import annotations

import difflib
import inspect
from typing import Iterable, Iterator, List, Mapping

# read by mmengine's Config or Runner beyond Runner.__init__'s arguments
_RUNNER_READS = {'runner_type', 'custom_imports', 'model_wrapper_cfg', 'find_unused_parameters',
                 'compile', 'strategy', 'gpu_ids', 'dist_params', 'backend_args',
                 'auto_scale_lr', 'default_scope', 'work_dir', 'load_from', 'resume'}
# keys of Runner arguments a config often leaves to the defaults (offered as suggestions)
_RUNNER_SUBKEYS = ('randomness.seed', 'randomness.deterministic', 'randomness.diff_rank_seed',
                   'env_cfg.cudnn_benchmark', 'env_cfg.mp_cfg', 'env_cfg.dist_cfg')
_LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


class SettingsError(ValueError):
    """A setting that cannot give a meaningful run; the message names the key and the fix."""


def runner_keys() -> set:
    """The top-level config keys mmengine's Runner (or its config loading) reads."""
    from mmengine.runner import Runner
    return set(inspect.signature(Runner.__init__).parameters) - {'self'} | _RUNNER_READS


def _paths(node, prefix: str, depth: int) -> Iterator[str]:
    """Dotted paths of the dict keys under ``node`` (not into lists), ``depth`` levels."""
    if depth == 0 or not isinstance(node, Mapping):
        return
    for key, value in node.items():
        path = f'{prefix}.{key}' if prefix else str(key)
        yield path
        yield from _paths(value, path, depth - 1)


def closest_keys(key: str, candidates: Iterable[str], cutoff: float = 0.75) -> List[str]:
    """The candidates most like ``key`` (ties all given): compared whole, and a key without
    dots also by its name against theirs (``max_epoch`` -> ``train_cfg.max_epochs``); empty
    when none is close."""
    def score(candidate: str) -> float:
        whole = difflib.SequenceMatcher(None, key, candidate).ratio()
        if '.' in key:
            return whole
        last = difflib.SequenceMatcher(None, key, candidate.split('.')[-1]).ratio()
        return max(whole, last)
    scores = {candidate: score(candidate) for candidate in set(candidates)}
    best = max(scores.values(), default=0.0)
    return sorted(c for c, v in scores.items() if v == best) if best >= cutoff else []


def check_cfg_options(cfg, options: Mapping, source: str = '--cfg-options') -> None:
    """Raises :class:`SettingsError` for an ``options`` key (dotted, as ``DictAction``
    parses them) whose first name is neither a key of ``cfg`` nor one the Runner reads,
    naming the closest key the Runner reads."""
    known_top = set(cfg.keys()) | runner_keys()
    read = runner_keys()
    candidates = {path for key in cfg if key in read
                  for path in _paths({key: cfg[key]}, '', 3)} | read | set(_RUNNER_SUBKEYS)
    bad: List[str] = []
    for key, value in options.items():
        if key.split('.')[0] in known_top:
            continue
        near = closest_keys(key, candidates)
        hint = f'did you mean {" or ".join(near)}?' if near else \
            f'the keys the Runner reads are: {", ".join(sorted(read & known_top))}'
        bad.append(f'{source} {key}={value!r}: {key.split(".")[0]!r} is not a key of the '
                   f'config nor one that mmengine reads, so it would be ignored; {hint}')
    if bad:
        raise SettingsError('\n'.join(bad))


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def check_run_settings(cfg, train: bool = True) -> None:
    """Raises :class:`SettingsError` naming every setting that cannot give a meaningful run:
    ``train_cfg.max_epochs`` / ``max_iters`` / ``val_interval`` (training) and the
    dataloaders' ``batch_size`` (the test one only when ``train`` is False), each an
    integer >= 1."""
    bad = []
    train_cfg = cfg.get('train_cfg') or {}
    if train:
        for key in ('max_epochs', 'max_iters', 'val_interval'):
            if key in train_cfg and not _positive_int(train_cfg[key]):
                bad.append(f'train_cfg.{key}={train_cfg[key]!r}')
    for loader in (_LOADERS if train else ('test_dataloader',)):
        settings = cfg.get(loader) or {}
        if 'batch_size' in settings and not _positive_int(settings['batch_size']):
            bad.append(f'{loader}.batch_size={settings["batch_size"]!r}')
    if bad:
        raise SettingsError(f'{", ".join(bad)}: must be an integer >= 1 (nothing would be '
                            'trained or evaluated); set it in the config or with '
                            '--cfg-options KEY=N')
