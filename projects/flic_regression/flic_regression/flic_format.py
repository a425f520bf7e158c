"""FLIC's ``examples.mat``: reading, writing, and the per-example quantities derived from it.

Pure numpy + scipy (the MediaPipe baseline imports it in its own environment). The file holds
one struct array ``examples`` (1 x N) with, per annotated person:

``coords``    2 x 29 pixel coordinates (x row, y row), NaN for the slots FLIC does not label
``torsobox``  1 x 4 ``[x1 y1 x2 y2]`` box around the torso
``filepath``  image file name, relative to the image folder (FLIC: ``images/``)
``imgdims``   ``[height width channels]`` of the frame (FLIC: 480 720 3)
``istrain`` / ``istest``  split flags
``moviename``, ``currframe``, ``poselet_hit_idx``, ``isbad``, ``isunchecked``  (kept, unused)

Also FLIC's evaluation protocol as this project applies it: the crop each person is seen
through (:func:`crop_box`: by default the upper-body box that MODEC builds from ``torsobox``)
and the splits (:func:`select`: ``istest`` is the test split; a fixed fraction of the
``istrain`` frames is held out as the validation split).
"""
from __future__ import annotations

import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, List, Sequence, Set

import numpy as np

# the crop of each person: 'torsobox' is FLIC's protocol (the torso box the dataset gives);
# 'oracle' is built from the ground-truth keypoints, an upper bound no FLIC paper reports
CROPS = ('torsobox', 'oracle')
# MODEC (Sapp & Taskar 2013; its code's tbox2ubbox) sees a person through a box built from
# the torso box alone: a unit of 1.4 torso-box widths, the box 2 units either side of the
# torso box's centre, 1 unit above its top and 2 below (4 x 3 units)
TORSO_UNIT = 1.4
UNITS_LEFT_RIGHT, UNITS_ABOVE, UNITS_BELOW = 2.0, 1.0, 2.0
ORACLE_PADDING = 1.25  # the oracle box: keypoints + torso box, padded as MMPose's default
SPLITS = ('train', 'val', 'trainval', 'test', 'all')
VAL_FRACTION = 0.1  # of the istrain frames, held out for validation

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
        """``[29]`` bool: the slots with coordinates (finite x and y; NaN and inf are not)."""
        return np.isfinite(self.coords).all(-1)


def _numbers(shape) -> Callable:
    def convert(value) -> np.ndarray:
        if isinstance(value, (str, bytes)):
            raise ValueError('text, not numbers')
        array = np.asarray(value, dtype=np.float64)
        if -1 not in shape and array.size != int(np.prod(shape)):
            raise ValueError(f'{array.size} values')
        return array.reshape(shape)
    return convert


def _imgdims(value) -> np.ndarray:
    dims = _numbers((-1,))(value)
    if len(dims) not in (2, 3) or not np.isfinite(dims).all() or (dims[:2] < 1).any():
        raise ValueError('not a positive [height width] or [height width channels]')
    return dims.astype(np.int64)


def _filepath(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError('not a file name')
    parts = PurePosixPath(value.replace('\\', '/'))
    if parts.is_absolute() or '..' in parts.parts:
        raise ValueError('leaves the image folder (absolute, or with "..")')
    return value


def _flag(value) -> bool:
    array = np.asarray(value)
    if isinstance(value, (str, bytes)) or array.size != 1 or array.dtype.kind not in 'biuf':
        raise ValueError('not a 0/1 flag')
    return bool(array.reshape(-1)[0])


def _optional_int(value) -> int:
    """An unused numeric field, 0 when it is not a finite number."""
    try:
        return int(np.asarray(value, dtype=np.float64).reshape(-1)[0])
    except (TypeError, ValueError, IndexError, OverflowError):
        return 0


# field -> (what FLIC holds there, converter)
_FIELDS = dict(
    coords=('2 x 29 numbers, NaN where unlabelled', _numbers((2, 29))),
    torsobox=('4 numbers [x1 y1 x2 y2]', _numbers((4,))),
    imgdims=('[height width channels]', _imgdims),
    filepath=('an image file name relative to the image folder', _filepath),
    istrain=('a 0/1 flag', _flag),
    istest=('a 0/1 flag', _flag),
)


def _read_field(path: Path, index: int, ex, name: str):
    expected, convert = _FIELDS[name]
    value = getattr(ex, name)
    try:
        return convert(value)
    except (TypeError, ValueError) as err:
        shown = repr(value) if len(repr(value)) < 80 else repr(value)[:77] + '...'
        raise ValueError(f'{path}: examples({index + 1}).{name} = {shown}: {err}; FLIC has '
                         f'{expected} there (fix or remove that example)') from None


def read_examples(path) -> List[Example]:
    """Reads a FLIC ``examples.mat`` (the real one or one this project writes).

    Any non-finite coordinate (NaN, as FLIC marks its unlabelled slots, or inf) counts as
    unlabelled: inf is turned into NaN with a warning naming the examples. A malformed field
    (text or a wrong count of numbers, a file name leaving the image folder, ...) is an error
    naming the file, the example (1-based, as MATLAB's ``examples(i)``) and the field.
    """
    from scipy.io import loadmat
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{path} not found: set the dataset\'s data_root/ann_file to '
                                'FLIC\'s examples.mat (or generate one, see the README)')
    try:  # MATLAB data only: loadmat unpickles nothing
        mat = loadmat(str(path), squeeze_me=True, struct_as_record=False)
    except Exception as err:  # scipy raises several types for damaged or foreign files
        raise ValueError(f'{path} cannot be read as a MATLAB .mat file ({type(err).__name__}: '
                         f'{err}): FLIC\'s annotation file is examples.mat') from None
    if 'examples' not in mat:
        raise ValueError(f'{path} has no `examples` struct array (keys: '
                         f'{sorted(k for k in mat if not k.startswith("__"))}): not FLIC')
    raw = np.atleast_1d(mat['examples'])
    examples, with_inf = [], []
    for i, ex in enumerate(raw):
        missing = [f for f in REQUIRED if not hasattr(ex, f)]
        if missing:
            raise ValueError(f'{path}: examples({i + 1}) lacks the FLIC fields {missing}')
        coords = _read_field(path, i, ex, 'coords').T.copy()
        if np.isinf(coords).any():
            with_inf.append(i + 1)
        coords[~np.isfinite(coords).all(-1)] = np.nan  # a slot is labelled in x and y, or not
        examples.append(Example(
            coords=coords, torsobox=_read_field(path, i, ex, 'torsobox'),
            filepath=_read_field(path, i, ex, 'filepath'),
            imgdims=_read_field(path, i, ex, 'imgdims'),
            istrain=_read_field(path, i, ex, 'istrain'),
            istest=_read_field(path, i, ex, 'istest'),
            moviename=str(getattr(ex, 'moviename', '')),
            currframe=_optional_int(getattr(ex, 'currframe', 0))))
    if with_inf:
        shown = ', '.join(f'examples({i})' for i in with_inf[:5])
        more = f' and {len(with_inf) - 5} more' if len(with_inf) > 5 else ''
        warnings.warn(f'{path}: inf in the coords of {shown}{more}: those slots count as '
                      'unlabelled', RuntimeWarning, stacklevel=2)
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


def upper_body_box(box: np.ndarray) -> np.ndarray:
    """MODEC's crop ``[x1 y1 x2 y2]`` of a torso box ``[x1 y1 x2 y2]``: with ``u = 1.4 x``
    the torso box's width, ``u`` above the torso box's top to ``2u`` below it, ``2u`` either
    side of its centre. Not clipped to the frame (the affine crop pads outside it)."""
    x1, y1, x2, _ = (float(v) for v in box)
    unit = TORSO_UNIT * abs(x2 - x1)
    centre = (x1 + x2) / 2
    return np.array([centre - UNITS_LEFT_RIGHT * unit, y1 - UNITS_ABOVE * unit,
                     centre + UNITS_LEFT_RIGHT * unit, y1 + UNITS_BELOW * unit])


def oracle_box(coords: np.ndarray, box: np.ndarray, width: float, height: float) -> np.ndarray:
    """The ground-truth crop (an upper bound, not FLIC's protocol): ``[x1 y1 x2 y2]`` around
    the labelled keypoints and the torso box, clipped to the frame, then padded by 1.25
    about its centre."""
    points = coords[np.isfinite(coords).all(-1)]
    if np.isfinite(box).all():
        points = np.concatenate([points, box.reshape(2, 2)])
    if not len(points):
        raise ValueError('oracle_box: no labelled keypoint and no torso box')
    low = np.clip(points.min(0), 0, [width - 1, height - 1])
    high = np.clip(points.max(0), 0, [width - 1, height - 1])
    centre, half = (low + high) / 2, (high - low) / 2 * ORACLE_PADDING
    return np.concatenate([centre - half, centre + half])


def crop_box(ex: Example, crop: str = 'torsobox') -> np.ndarray:
    """The box ``[x1 y1 x2 y2]`` a model sees example ``ex`` through (already padded: a
    top-down pipeline uses it with ``GetBBoxCenterScale(padding=1.0)`` and ``TopdownAffine``
    widens it to the input's aspect ratio)."""
    if crop == 'torsobox':
        if not np.isfinite(ex.torsobox).all() or ex.torsobox[2] <= ex.torsobox[0]:
            raise ValueError(f'{ex.filepath}: torsobox {ex.torsobox.tolist()} is not a box '
                             '[x1 y1 x2 y2] with x2 > x1: FLIC\'s crop needs it (or use '
                             "crop='oracle')")
        return upper_body_box(ex.torsobox)
    if crop == 'oracle':
        return oracle_box(ex.coords, ex.torsobox, ex.imgdims[1], ex.imgdims[0])
    raise ValueError(f'crop={crop!r}: expected one of {CROPS}')


def val_frames(examples: Sequence[Example], fraction: float = VAL_FRACTION) -> Set[str]:
    """The ``filepath`` of the training frames held out for validation: ``round(fraction x
    frames)`` of the ``istrain`` frames (at least one, and one left to train on), chosen by
    a hash of the file name, so the choice depends on nothing but the names (not on the order
    of the file or a random seed). All persons of a frame fall on the same side."""
    if not 0 <= fraction < 1:
        raise ValueError(f'val_fraction={fraction}: must be in [0, 1)')
    frames = sorted({ex.filepath for ex in examples if ex.istrain})
    count = 0 if fraction == 0 or not frames else max(1, round(fraction * len(frames)))
    if count and count >= len(frames):
        raise ValueError(f'{len(frames)} training frames: too few to hold out a validation '
                         f'split of {fraction:g} and keep one to train on')
    ranked = sorted(frames, key=lambda f: (zlib.crc32(f.encode('utf-8')), f))
    return set(ranked[:count])


def select(examples: Sequence[Example], split: str,
           fraction: float = VAL_FRACTION) -> List[int]:
    """Indices of the examples of ``split``: ``'test'`` (``istest``), ``'trainval'`` (all
    ``istrain``), ``'train'`` / ``'val'`` (``istrain`` without / only the frames of
    :func:`val_frames`) or ``'all'``."""
    if split not in SPLITS:
        raise ValueError(f'split={split!r}: expected one of {SPLITS}')
    held_out = val_frames(examples, fraction) if split in ('train', 'val') else set()
    keep = dict(
        all=lambda ex: True, test=lambda ex: ex.istest, trainval=lambda ex: ex.istrain,
        train=lambda ex: ex.istrain and ex.filepath not in held_out,
        val=lambda ex: ex.istrain and ex.filepath in held_out)[split]
    return [i for i, ex in enumerate(examples) if keep(ex)]
