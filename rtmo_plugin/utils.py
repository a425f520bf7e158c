"""Small helpers the library modules share (no OpenMMLab import at module level)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Union

from torch import nn


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside mmengine's wrappers (DDP, ...), or the model itself."""
    from mmengine.model import is_model_wrapper
    return model.module if is_model_wrapper(model) else model


def leaf_datasets(dataset) -> list:
    """The datasets holding annotations inside Concat/Repeat/Combined wrappers."""
    from mmengine.dataset import ConcatDataset, RepeatDataset

    if isinstance(dataset, ConcatDataset):
        return [leaf for d in dataset.datasets for leaf in leaf_datasets(d)]
    if isinstance(dataset, RepeatDataset):
        return leaf_datasets(dataset.dataset)
    if hasattr(dataset, 'datasets'):  # MMPose's CombinedDataset
        return [leaf for d in dataset.datasets for leaf in leaf_datasets(d)]
    return [dataset]


def write_atomic(path: Union[str, Path], data: Union[str, bytes]) -> Path:
    """Writes ``data`` to ``path`` through a temporary name in the same folder, flushed to
    disk and renamed when complete: readers see the old file or the whole new one, never half
    of it. The file gets the mode ``open()`` gives a new file (the umask's)."""
    path = Path(path)
    tmp = path.with_name(f'.{path.name}.{os.getpid()}.tmp')
    try:
        with open(tmp, 'wb' if isinstance(data, bytes) else 'w') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
