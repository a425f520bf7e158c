"""Let ``torch.load(weights_only=True)`` read OpenMMLab checkpoints.

Since torch 2.6 ``torch.load`` defaults to ``weights_only=True``, and mmengine
0.10 calls it without arguments. Checkpoints written by mmengine (ours and the
released OpenMMLab ones) carry numpy arrays and scalars and mmengine's
``HistoryBuffer`` in their ``meta`` / ``message_hub``, which the safe unpickler
rejects ("Unsupported global: numpy.core.multiarray._reconstruct").
``HistoryBuffer`` also pickles its statistics methods as
``getattr(HistoryBuffer, 'mean')``.

Instead of turning safe loading off, we allow-list exactly those data types with
``torch.serialization.add_safe_globals``, and stand in for ``getattr`` with a
function that only returns ``HistoryBuffer``'s statistics methods; everything else
is still refused. This runs once when :mod:`rtmo_plugin` is imported, which
``custom_imports`` in every plugin config does.
"""
from __future__ import annotations

import logging
import os
import pickle
import re
import zipfile
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np
import torch
from torch import nn

from .utils import unwrap


def _numpy_globals() -> List[object]:
    from numpy.core.multiarray import _reconstruct, scalar

    dtype_classes = [type(np.dtype(code)) for code in '?bBhHiIlLqQefdgFDGSUV']
    return [_reconstruct, scalar, np.ndarray, np.dtype, *dtype_classes]


def history_buffer_getattr(obj: object, name: str) -> object:
    """``getattr`` restricted to what mmengine's ``HistoryBuffer`` pickles."""
    from mmengine.logging.history_buffer import HistoryBuffer

    if obj is HistoryBuffer and name in ('min', 'max', 'current', 'mean'):
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'rtmo_plugin: refusing getattr({obj!r}, {name!r}) while loading a checkpoint with '
        'weights_only=True; only HistoryBuffer statistics methods are allowed')


def _mmengine_globals() -> List[object]:
    from mmengine.logging.history_buffer import HistoryBuffer

    # protocol-2 pickles name it `__builtin__.getattr`, newer ones `builtins.getattr`
    return [HistoryBuffer, (history_buffer_getattr, '__builtin__.getattr'),
            (history_buffer_getattr, 'builtins.getattr')]


def allow_openmmlab_checkpoints() -> None:
    """Allow-list the data types found in mmengine checkpoints (idempotent)."""
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is not None:  # torch < 2.4 loads everything anyway
        add(_numpy_globals() + _mmengine_globals())


allow_openmmlab_checkpoints()


# is it a checkpoint at all ---------------------------------------------------------------


class CheckpointFileError(ValueError):
    """A file given as a checkpoint is not one, or the safe loader refused it."""


# what a file that is not a checkpoint usually starts with
_SIGNATURES = ((b'\xff\xd8\xff', 'a JPEG image'), (b'\x89PNG', 'a PNG image'),
               (b'\x1f\x8b', 'a gzip archive'), (b'GIF8', 'a GIF image'),
               (b'{', 'JSON or text'), (b'%PDF', 'a PDF document'))


def _is_remote(name: str) -> bool:
    return '://' in name or name.startswith(('torchvision:', 'open-mmlab:', 'mmcls:', 'pavi:'))


def checkpoint_file_problem(filename) -> Optional[str]:
    """Why ``filename`` cannot be a torch checkpoint, from its first bytes (None: it can be,
    or it is remote and is not looked at).

    ``torch.save`` writes a zip archive holding ``<name>/data.pkl`` (or, in the legacy format,
    a pickle, which starts with the PROTO opcode ``0x80``).
    """
    name = str(filename)
    if _is_remote(name):
        return None
    path = os.path.expanduser(name)
    if not os.path.exists(path):
        return 'no such file'
    if not os.path.isfile(path):
        return 'not a file'
    with open(path, 'rb') as f:
        head = f.read(8)
    if not head:
        return 'an empty file (0 bytes)'
    if head.startswith(b'PK\x03\x04'):
        try:
            with zipfile.ZipFile(path) as archive:
                if any(n.endswith('/data.pkl') for n in archive.namelist()):
                    return None
        except zipfile.BadZipFile:
            return 'a damaged or truncated zip archive (torch.save writes a zip archive)'
        return 'a zip archive without data.pkl, not one that torch.save wrote'
    if head[:1] == b'\x80':
        return None
    kind = next((what for magic, what in _SIGNATURES if head.startswith(magic)), None)
    return f'it looks like {kind}' if kind else f'it starts with {head!r}'


def check_checkpoint_file(filename) -> None:
    """Raises :class:`CheckpointFileError` when ``filename`` is not a checkpoint."""
    problem = checkpoint_file_problem(filename)
    if problem:
        raise CheckpointFileError(
            f'{filename} is not a checkpoint ({problem}); give a .pth file that torch.save '
            'wrote, e.g. epoch_N.pth of a training run or a released checkpoint')


def load_checkpoint_file(filename, map_location='cpu') -> dict:
    """mmengine's checkpoint loading (paths, URLs, ``open-mmlab://``) with a clear error for a
    file that is not a checkpoint or that the safe loader refuses.

    The refusal keeps torch's reason (e.g. ``unsupported GLOBAL posix.system``) but not its
    advice to load with ``weights_only=False``, which would run whatever the pickle holds.
    """
    from mmengine.runner.checkpoint import _load_checkpoint

    check_checkpoint_file(filename)
    try:
        return _load_checkpoint(str(filename), map_location=map_location)
    except pickle.UnpicklingError as err:
        reason = [line.strip() for line in str(err).splitlines()
                  if line.strip() and not re.search(
                      r'weights_only|Weights only load failed|file an issue|documentation of '
                      r'torch.load', line)]
        raise CheckpointFileError(
            f'{filename} was refused by the safe checkpoint loader: it holds more than tensors '
            f'and plain data ({"; ".join(reason) or "unknown content"}). Only load '
            'checkpoints from a source you trust; this loader does not run code from them'
        ) from None
    except (EOFError, RuntimeError) as err:  # torch's reader on a cut or damaged archive
        why = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointFileError(f'{filename} is not a readable checkpoint (truncated or '
                                  f'damaged: {why})') from None


# a checkpoint to resume from -------------------------------------------------------------

RESUME_KEYS = ('meta.epoch', 'meta.iter', 'message_hub', 'optimizer', 'state_dict')


def check_resumable(checkpoint: dict, name: str) -> None:
    """Raises :class:`CheckpointFileError` when ``checkpoint`` lacks what mmengine's
    ``Runner.resume`` reads (a weights-only file fails there with ``KeyError: 'epoch'``)."""
    meta = checkpoint.get('meta') if isinstance(checkpoint.get('meta'), dict) else {}
    present = {'meta.epoch': 'epoch' in meta, 'meta.iter': 'iter' in meta,
               **{key: key in checkpoint for key in ('message_hub', 'optimizer', 'state_dict')}}
    missing = [key for key in RESUME_KEYS if not present[key]]
    if missing:
        raise CheckpointFileError(
            f'{name} cannot be resumed from: it has no {", ".join(missing)} (a weights-only '
            'checkpoint, e.g. a released model or one saved without the optimiser). Resume '
            'from a checkpoint a training run saved with its optimiser (epoch_N.pth in its work '
            'dir), or start a new training from these weights with load_from (tools/train.py '
            f'CONFIG --cfg-options load_from={name}) instead of --resume')


# checkpoint vs model ------------------------------------------------------------------


class CheckpointMismatchError(ValueError):
    """A checkpoint's tensors do not fit the model built from the config. ``problem`` is the
    message without the opt-in to load it partially (for callers that offer none)."""

    def __init__(self, message: str, problem: str = '') -> None:
        super().__init__(message)
        self.problem = problem or message


@dataclass
class StateDictMismatch:
    """How a checkpoint's state dict differs from a model's."""

    missing: List[str] = field(default_factory=list)     # in the model, not the checkpoint
    unexpected: List[str] = field(default_factory=list)  # in the checkpoint, not the model
    shapes: List[Tuple[str, tuple, tuple]] = field(default_factory=list)  # key, ckpt, model
    loaded: int = 0

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected or self.shapes)

    def describe(self, limit: int = 8) -> str:
        def names(keys):
            return ', '.join(keys[:limit]) + (f' (+{len(keys) - limit} more)'
                                              if len(keys) > limit else '')
        parts = []
        if self.shapes:
            parts.append(f'{len(self.shapes)} shape-mismatched: ' + names(
                [f'{k} checkpoint {list(a)} vs model {list(b)}' for k, a, b in self.shapes]))
        if self.missing:
            parts.append(f'{len(self.missing)} missing from the checkpoint: '
                         + names(self.missing))
        if self.unexpected:
            parts.append(f'{len(self.unexpected)} not in the model: ' + names(self.unexpected))
        return '; '.join(parts)

    def likely_cause(self) -> str:
        # one output channel per keypoint: a keypoint set differs there in the first dim
        # (another width changes only the input channels)
        vis = [(k, a, b) for k, a, b in self.shapes if 'out_kpt_vis' in k and a[:1] != b[:1]]
        if vis:
            key, ckpt, model = vis[0]
            return (f'likely a checkpoint of another keypoint set: {key} predicts {ckpt[0]} '
                    f'keypoints in the checkpoint and {model[0]} in the model; use the config '
                    "the checkpoint was trained with (or its dataset's metainfo file in "
                    'model.head.metainfo)')
        if self.shapes:
            return 'likely a checkpoint of another model size (widen/deepen factor, channels)'
        return 'likely a checkpoint of another architecture or a renamed module'


def _model_state(model: nn.Module) -> dict:
    return unwrap(model).state_dict()


def compare_state_dict(model: nn.Module, state_dict: dict) -> StateDictMismatch:
    """The keys of ``state_dict`` (a leading ``module.`` is ignored) against ``model``'s."""
    state_dict = {re.sub(r'^module\.', '', k): v for k, v in state_dict.items()}
    own = _model_state(model)
    result = StateDictMismatch(missing=sorted(set(own) - set(state_dict)),
                               unexpected=sorted(set(state_dict) - set(own)))
    for key in sorted(set(own) & set(state_dict)):
        ckpt, mine = tuple(state_dict[key].shape), tuple(own[key].shape)
        if ckpt != mine:
            result.shapes.append((key, ckpt, mine))
        else:
            result.loaded += 1
    return result


def check_checkpoint(model: nn.Module, checkpoint, partial: bool = False,
                     option: str = 'partial=True', name: str = '') -> StateDictMismatch:
    """Raises :class:`CheckpointMismatchError` when ``checkpoint`` (a path, URL or loaded
    dict) does not fit ``model``, unless ``partial``; then logs what will and will not load.

    ``option`` names the opt-in in the error message (``--partial-load`` for the CLI).
    """
    from mmengine.logging import print_log

    name = name or (str(checkpoint) if not isinstance(checkpoint, dict) else 'the checkpoint')
    if not isinstance(checkpoint, dict):
        checkpoint = load_checkpoint_file(checkpoint)
    state_dict = checkpoint.get('state_dict', checkpoint)
    mismatch = compare_state_dict(model, state_dict)
    if not mismatch:
        return mismatch
    if not partial:
        problem = (f'{name} does not fit the model of the config: {mismatch.describe()}; '
                   f'{mismatch.likely_cause()}')
        raise CheckpointMismatchError(f'{problem}. To load only the matching tensors on '
                                      f'purpose, pass {option}', problem)
    print_log(f'partial load of {name}: {mismatch.loaded} tensors load, not loaded: '
              f'{mismatch.describe(limit=1000)}', logger='current', level=logging.WARNING)
    return mismatch


def load_checked(model: nn.Module, filename, partial: bool = False) -> dict:
    """Loads a checkpoint into ``model`` after :func:`check_checkpoint`; returns it.

    With ``partial`` only the tensors whose key and shape match are loaded.
    """
    from mmengine.runner.checkpoint import _load_checkpoint_to_model

    checkpoint = load_checkpoint_file(filename)
    mismatch = check_checkpoint(model, checkpoint, partial, option='partial=True',
                                name=str(filename))
    state_dict = checkpoint.get('state_dict', checkpoint)
    if mismatch.shapes:
        bad = {key for key, _, _ in mismatch.shapes}
        state_dict = {k: v for k, v in state_dict.items()
                      if re.sub(r'^module\.', '', k) not in bad}
    _load_checkpoint_to_model(model, dict(state_dict=state_dict), strict=not partial)
    return checkpoint
