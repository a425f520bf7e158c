"""Median latency of every inference path on the same weights and images."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from torch import nn

from rtmo_ort import read_image

from ..deploy.backends import ALL_PATHS, Predictor, build_backends
from .report import markdown_table, time_in_turns


def load_images(paths: Sequence[Union[str, Path]]) -> List[np.ndarray]:
    """BGR images; :class:`rtmo_ort.ImageFileError` (a ``ValueError``) names the first
    missing, truncated or undecodable file and why."""
    if not paths:
        raise ValueError('no images given')
    return [read_image(path) for path in paths]


def time_paths(paths: Dict[str, Predictor], images: Sequence[np.ndarray],
               repeats: int) -> List[dict]:
    """One row per path: ``path``, ``median_ms`` (per image) and ``speedup`` over ``eager``.

    Paths are timed in turns (one pass over the images by every path, then the next pass;
    :func:`.report.time_in_turns`) so that load from other processes on a shared machine
    spreads over all of them; a pass's time is divided by the image count.
    """
    def one_pass(predict: Predictor):
        return lambda: [predict(image) for image in images]

    medians = time_in_turns({name: one_pass(p) for name, p in paths.items()}, repeats, warmup=1)
    medians = {name: ms / len(images) for name, ms in medians.items()}
    reference = medians.get('eager')
    return [dict(path=name, median_ms=round(ms, 2),
                 speedup=None if reference is None else round(reference / ms, 2))
            for name, ms in medians.items()]


def latency_rows(model: nn.Module, images: Sequence[np.ndarray], repeats: int = 5,
                 names: Sequence[str] = ALL_PATHS,
                 work_dir: Optional[Union[str, Path]] = None,
                 threads: Optional[int] = None) -> List[dict]:
    """Median latency per deploy path of one model, for ``tools/benchmark.py``'s table and
    ``python -m rtmo_plugin.deploy bench``.

    Args:
        model: the plugin model in eval mode on the CPU (e.g.
            :func:`rtmo_plugin.deploy.export.build_model`'s),
            unchanged by this function.
        images: BGR images (:func:`load_images` reads and checks files); static int8 is
            calibrated on them.
        repeats: timed passes over the images.
        names: paths to time (see :data:`rtmo_plugin.deploy.backends.ALL_PATHS`); ``eager`` is the
            plugin's own eager predict, the ``speedup`` reference.
        threads: torch and onnxruntime intra-op threads (default: their own
            defaults, one per core).

    Returns:
        ``[{'path', 'median_ms', 'speedup'}]``; every latency is end to end
        (letterbox, network, decoding, NMS, mapping back to image pixels).
    """
    import torch

    if repeats < 1:
        raise ValueError(f'repeats={repeats}: time at least one pass')
    if not len(images):
        raise ValueError('no images given')
    if threads:
        torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as tmp:
        paths = build_backends(model, Path(work_dir or tmp), images, names,
                               num_threads=threads or 0)
        return time_paths(paths, images, repeats)


def latency_table(rows: Sequence[dict]) -> str:
    """:func:`latency_rows` as a Markdown table."""
    return markdown_table([{'path': row['path'], 'median ms': f"{row['median_ms']:.1f}",
                   'speed-up vs eager': '' if row['speedup'] is None else f"{row['speedup']:.2f}x"}
                  for row in rows])
