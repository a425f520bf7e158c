"""Median latency of every inference path on the same weights and images."""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import cv2
import numpy as np

from .export import build_model
from .paths import ALL_PATHS, Predictor, build_paths


def load_images(paths: Sequence[Union[str, Path]]) -> List[np.ndarray]:
    """BGR images; a clear error for unreadable files."""
    images = []
    for path in paths:
        image = cv2.imread(str(path))
        if image is None:
            raise FileNotFoundError(f'{path}: missing or not an image OpenCV can read')
        images.append(image)
    if not images:
        raise ValueError('no images given')
    return images


def median_latency_ms(predict: Predictor, images: Sequence[np.ndarray], repeats: int,
                      warmup: int = 2) -> float:
    """Median wall time of one call (pre-processing to people in image pixels), in ms."""
    for image in list(images)[:warmup]:
        predict(image)
    times = []
    for _ in range(repeats):
        for image in images:
            start = time.perf_counter()
            predict(image)
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def time_paths(paths: Dict[str, Predictor], images: Sequence[np.ndarray],
               repeats: int) -> List[dict]:
    """One row per path: ``path``, ``median_ms`` and ``speedup`` over ``eager`` (if timed).

    Paths are timed in turns (one repeat of every path, then the next) so that
    load from other processes on a shared machine spreads over all of them.
    """
    samples: Dict[str, List[float]] = {name: [] for name in paths}
    for predict in paths.values():  # warm-up: first calls allocate and pick kernels
        for image in list(images)[:2]:
            predict(image)
    for _ in range(repeats):
        for name, predict in paths.items():
            samples[name].append(median_latency_ms(predict, images, repeats=1, warmup=0))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    reference = medians.get('eager')
    return [dict(path=name, median_ms=round(ms, 2),
                 speedup=None if reference is None else round(reference / ms, 2))
            for name, ms in medians.items()]


def deploy_rows(config: Union[str, Path], checkpoint: Optional[Union[str, Path]],
                images: Sequence[Union[str, Path]], repeats: int = 5,
                names: Sequence[str] = ALL_PATHS,
                work_dir: Optional[Union[str, Path]] = None,
                threads: Optional[int] = None) -> List[dict]:
    """Median latency per deploy path, for ``tools/benchmark.py``'s table.

    Args:
        config / checkpoint: the plugin model (random weights without checkpoint).
        images: image files; static int8 is calibrated on them.
        repeats: timed passes over the images.
        names: paths to time (see :data:`.paths.ALL_PATHS`); ``eager`` is the
            plugin's own eager predict, the ``speedup`` reference.
        threads: torch and onnxruntime intra-op threads (default: their own
            defaults, one per core).

    Returns:
        ``[{'path', 'median_ms', 'speedup'}]``; every latency is end to end
        (letterbox, network, decoding, NMS, mapping back to image pixels).
    """
    import torch

    if threads:
        torch.set_num_threads(threads)
    model = build_model(config, checkpoint)
    bgr = load_images(images)
    with tempfile.TemporaryDirectory() as tmp:
        paths = build_paths(model, Path(work_dir or tmp), bgr, names, num_threads=threads or 0)
        return time_paths(paths, bgr, repeats)


def markdown_table(rows: Sequence[dict]) -> str:
    lines = ['| path | median ms | speed-up vs eager |', '|---|---|---|']
    for row in rows:
        speedup = '' if row['speedup'] is None else f"{row['speedup']:.2f}x"
        lines.append(f"| {row['path']} | {row['median_ms']:.1f} | {speedup} |")
    return '\n'.join(lines)
