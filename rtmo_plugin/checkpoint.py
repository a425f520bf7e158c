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

import pickle
from typing import List

import numpy as np
import torch


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
