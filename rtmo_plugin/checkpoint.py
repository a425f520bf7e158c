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
import pickle
import re
from dataclasses import dataclass, field
from typing import List, Tuple

import numpy as np
import torch
from torch import nn


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


# checkpoint vs model ------------------------------------------------------------------


class CheckpointMismatchError(ValueError):
    """A checkpoint's tensors do not fit the model built from the config."""


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
        vis = [(k, a, b) for k, a, b in self.shapes if 'out_kpt_vis' in k]
        if vis:  # one output channel per keypoint
            key, ckpt, model = vis[0]
            return (f'likely a checkpoint of another keypoint set: {key} predicts {ckpt[0]} '
                    f'keypoints in the checkpoint and {model[0]} in the model; use the config '
                    "the checkpoint was trained with (or its dataset's metainfo file in "
                    'model.head.metainfo)')
        if self.shapes:
            return 'likely a checkpoint of another model size (widen/deepen factor, channels)'
        return 'likely a checkpoint of another architecture or a renamed module'


def _model_state(model: nn.Module) -> dict:
    from .builders import unwrap
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
    from mmengine.runner.checkpoint import _load_checkpoint

    name = name or (str(checkpoint) if not isinstance(checkpoint, dict) else 'the checkpoint')
    if not isinstance(checkpoint, dict):
        checkpoint = _load_checkpoint(str(checkpoint), map_location='cpu')
    state_dict = checkpoint.get('state_dict', checkpoint)
    mismatch = compare_state_dict(model, state_dict)
    if not mismatch:
        return mismatch
    if not partial:
        raise CheckpointMismatchError(
            f'{name} does not fit the model of the config: {mismatch.describe()}; '
            f'{mismatch.likely_cause()}. To load only the matching tensors on purpose, '
            f'pass {option}')
    print_log(f'partial load of {name}: {mismatch.loaded} tensors load, not loaded: '
              f'{mismatch.describe(limit=1000)}', logger='current', level=logging.WARNING)
    return mismatch


def load_checked(model: nn.Module, filename, partial: bool = False) -> dict:
    """Loads a checkpoint into ``model`` after :func:`check_checkpoint`; returns it.

    With ``partial`` only the tensors whose key and shape match are loaded.
    """
    from mmengine.runner.checkpoint import _load_checkpoint, _load_checkpoint_to_model

    checkpoint = _load_checkpoint(str(filename), map_location='cpu')
    mismatch = check_checkpoint(model, checkpoint, partial, option='partial=True',
                                name=str(filename))
    state_dict = checkpoint.get('state_dict', checkpoint)
    if mismatch.shapes:
        bad = {key for key, _, _ in mismatch.shapes}
        state_dict = {k: v for k, v in state_dict.items()
                      if re.sub(r'^module\.', '', k) not in bad}
    _load_checkpoint_to_model(model, dict(state_dict=state_dict), strict=not partial)
    return checkpoint
