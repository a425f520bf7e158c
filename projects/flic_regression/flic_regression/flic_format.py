"""FLIC's ``examples.mat``: reading, writing, and the per-example quantities derived from it.

Pure numpy + scipy (the MediaPipe baseline imports it in its own environment). The file holds
one struct array ``examples`` (1 x N) with, per annotated person:

``coords``    2 x 29 pixel coordinates (x row, y row), NaN for the slots FLIC does not label
``torsobox``  1 x 4 ``[x1 y1 x2 y2]`` box around the torso
``filepath``  image file name, relative to the image folder (FLIC: ``images/``)
``imgdims``   ``[height width channels]`` of the frame (FLIC: 480 720 3)
``istrain`` / ``istest``  split flags
``moviename``, ``currframe``, ``poselet_hit_idx``, ``isbad``, ``isunchecked``  (kept, unused)
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence

import numpy as np

REQUIRED = ('coords', 'torsobox', 'filepath', 'imgdims', 'istrain', 'istest')
FIELDS = REQUIRED + ('moviename', 'currframe', 'poselet_hit_idx', 'isbad', 'isunchecked')


@dataclass
class Example:
    """One annotated person of ``examples.mat``."""
    coords: np.ndarray      # [29, 2] float, NaN where unlabelled (transposed from FLIC's 2 x 29)
    torsobox: np.ndarray    # [4] x1 y1 x2 y2
    filepath: str
    imgdims: np.ndarray     # [3] height, width, channels
    istrain: bool
    istest: bool
    moviename: str = ''
    currframe: int = 0

    @property
    def labelled(self) -> np.ndarray:
        """``[29]`` bool: the slots with coordinates."""
        return ~np.isnan(self.coords).any(-1)


def read_examples(path) -> List[Example]:
    """Reads a FLIC ``examples.mat`` (the real one or one this project writes)."""
    from scipy.io import loadmat
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{path} not found: set the dataset\'s data_root/ann_file to '
                                'FLIC\'s examples.mat (or generate one, see the README)')
    mat = loadmat(str(path), squeeze_me=True, struct_as_record=False)
    if 'examples' not in mat:
        raise ValueError(f'{path} has no `examples` struct array (keys: '
                         f'{sorted(k for k in mat if not k.startswith("__"))}): not FLIC')
    raw = np.atleast_1d(mat['examples'])
    examples = []
    for i, ex in enumerate(raw):
        missing = [f for f in REQUIRED if not hasattr(ex, f)]
        if missing:
            raise ValueError(f'{path}: examples({i + 1}) lacks the FLIC fields {missing}')
        coords = np.asarray(ex.coords, dtype=np.float64)
        if coords.shape != (2, 29):
            raise ValueError(f'{path}: examples({i + 1}).coords is {coords.shape}, FLIC has 2x29')
        examples.append(Example(
            coords=coords.T.copy(), torsobox=np.asarray(ex.torsobox, np.float64).reshape(4),
            filepath=str(ex.filepath), imgdims=np.asarray(ex.imgdims, np.int64).reshape(-1),
            istrain=bool(ex.istrain), istest=bool(ex.istest),
            moviename=str(getattr(ex, 'moviename', '')),
            currframe=int(np.asarray(getattr(ex, 'currframe', 0)).reshape(-1)[0])))
    return examples


def write_examples(path, examples: Sequence[Example]) -> Path:
    """Writes ``examples`` as a FLIC-layout ``examples.mat`` (all of :data:`FIELDS`)."""
    from scipy.io import savemat
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = np.zeros((1, len(examples)), dtype=[(f, object) for f in FIELDS])
    for i, ex in enumerate(examples):
        table[0, i] = (ex.coords.T.astype(np.float64), ex.torsobox.reshape(1, 4).astype(float),
                       ex.filepath, ex.imgdims.reshape(1, -1).astype(float), np.uint8(ex.istrain),
                       np.uint8(ex.istest), ex.moviename, float(ex.currframe), 0.0,
                       np.uint8(0), np.uint8(0))
    tmp = path.with_name(path.name + '.tmp.mat')  # never leave a half-written file behind
    savemat(str(tmp), {'examples': table})
    tmp.replace(path)
    return path


def torsobox(coords: np.ndarray, shoulders_hips: Sequence[int]) -> np.ndarray:
    """``[x1 y1 x2 y2]`` around the labelled shoulders and hips of ``coords [29, 2]``."""
    points = coords[list(shoulders_hips)]
    points = points[~np.isnan(points).any(-1)]
    if not len(points):
        return np.full(4, np.nan)
    return np.concatenate([points.min(0), points.max(0)])


def person_box(coords: np.ndarray, box: np.ndarray, width: float, height: float) -> np.ndarray:
    """The top-down box of a person: ``[x1 y1 x2 y2]`` around its labelled keypoints and its
    torso box, clipped to the frame (the pipeline pads it by 1.25)."""
    points = coords[~np.isnan(coords).any(-1)]
    if not np.isnan(box).any():
        points = np.concatenate([points, box.reshape(2, 2)])
    if not len(points):
        raise ValueError('person_box: no labelled keypoint and no torso box')
    low = np.clip(points.min(0), 0, [width - 1, height - 1])
    high = np.clip(points.max(0), 0, [width - 1, height - 1])
    return np.concatenate([low, high])
