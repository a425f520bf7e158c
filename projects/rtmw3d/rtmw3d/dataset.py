"""``CheckedH3WBDataset``: MMPose's ``H36MWholeBodyDataset`` whose annotation file cannot run
code and whose data are checked before training.

MMPose's class reads the H3WB ``.npz`` with ``np.load(allow_pickle=True)``: its three entries
are pickled Python objects, and unpickling runs whatever a crafted file asks for. Here the
file is read by :func:`read_plain_npz`, whose unpickler builds only plain containers (dict,
list, tuple, str, numbers) and numpy arrays and scalars; any other object is refused with
:class:`AnnotationFileError` naming the file, before anything of it runs.

Then, before the first iteration (at the dataset's construction):

- the fields: every subject, action, camera and frame has numeric, finite ``pose_2d [F, K, 2]``
  and ``camera_3d [F, K, 3]``, ``frame_id [F]``, camera intrinsics ``K`` with a positive
  focal length, ``R``, ``T`` and a box with ``x_min < x_max``, ``y_min < y_max``;
- the images (``scan_images=True``): missing, empty, truncated or undecodable files, by the
  plugin's :func:`~rtmo_plugin.image_files.image_problem`.

Problems end in :class:`~rtmo_plugin.data_checks.DataCheckError` naming the file, the example
(subject, action, camera, frame) and the field, with how to fix it.
"""
from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
from mmengine.fileio import get_local_path
from mmpose.datasets import H36MWholeBodyDataset
from mmpose.registry import DATASETS

from rtmo_plugin.data_checks import DataCheckError
from rtmo_plugin.image_files import image_problem

# what a pickled H3WB entry may refer to: numpy's array and scalar reconstruction
_NUMPY_GLOBALS = {('numpy', 'ndarray'), ('numpy', 'dtype')} | {
    (module, name) for module in ('numpy.core.multiarray', 'numpy._core.multiarray')
    for name in ('_reconstruct', 'scalar')}
_MAX_LISTED = 8


class AnnotationFileError(DataCheckError):
    """An annotation file that is not what its reader accepts."""


class _PlainUnpickler(pickle.Unpickler):
    """Builds plain containers and numpy arrays only; any other global is refused."""

    def __init__(self, file, path: str) -> None:
        super().__init__(file)
        self.path = path

    def find_class(self, module: str, name: str):
        if (module, name) in _NUMPY_GLOBALS:
            return super().find_class(module, name)
        raise AnnotationFileError(
            f'{self.path}: refused: it asks to build {module}.{name}, and an annotation file '
            'may hold only plain containers and numeric arrays (loading it as it is would run '
            'code). Get the file again from its source')

    def persistent_load(self, pid):
        raise AnnotationFileError(f'{self.path}: refused: persistent ids in a pickle')


def read_plain_npz(path: str) -> Dict[str, np.ndarray]:
    """An ``.npz`` archive's arrays; object arrays are unpickled by :class:`_PlainUnpickler`.

    Raises:
        AnnotationFileError: not an npz archive, a truncated or corrupt member, or a pickle
            that refers to anything but numpy's arrays and scalars.
    """
    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                key = member[:-4] if member.endswith('.npy') else member
                data = archive.read(member)
                arrays[key] = _read_npy(io.BytesIO(data), path, key)
    except zipfile.BadZipFile as error:
        raise AnnotationFileError(f'{path}: not an .npz archive ({error}); expected the H3WB '
                                  'annotation file (h3wb_train_bbox.npz)') from None
    return arrays


def _read_npy(buffer: io.BytesIO, path: str, key: str) -> np.ndarray:
    try:
        version = np.lib.format.read_magic(buffer)
        header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                  else np.lib.format.read_array_header_2_0)
        _, _, dtype = header(buffer)
        if not dtype.hasobject:
            buffer.seek(0)
            return np.lib.format.read_array(buffer, allow_pickle=False)
        return _PlainUnpickler(buffer, path).load()
    except AnnotationFileError:
        raise
    except Exception as error:  # noqa: BLE001  (numpy and pickle raise many kinds)
        raise AnnotationFileError(f'{path}: entry {key!r} cannot be read ({type(error).__name__}: '
                                  f'{error}); the file is truncated or corrupt') from None


def _numeric(value, shape: Tuple, where: str, field: str, problems: List[str]) -> bool:
    """Whether ``value`` is a finite numeric array whose shape matches ``shape`` (None: any
    size on that axis); appends the problem otherwise."""
    array = np.asarray(value) if isinstance(value, (np.ndarray, list, tuple)) else None
    if array is None or array.dtype.kind not in 'iuf':
        kind = type(value).__name__ if array is None else f'dtype {array.dtype}'
        problems.append(f'{where}: field {field!r} is not a numeric array ({kind})')
        return False
    if array.ndim != len(shape) or any(s is not None and s != n
                                       for s, n in zip(shape, array.shape)):
        problems.append(f'{where}: field {field!r} has shape {list(array.shape)}, expected '
                        f'{[("any" if s is None else s) for s in shape]}')
        return False
    bad = ~np.isfinite(array.astype(np.float64))
    if bad.any():
        problems.append(f'{where}: field {field!r} has {int(bad.sum())} non-finite values '
                        f'(first at index {tuple(int(i) for i in np.argwhere(bad)[0])})')
        return False
    return True


def check_h3wb(data: Dict[str, np.ndarray], path: str, subjects, cameras) -> None:
    """Checks the fields of an H3WB file's ``subjects`` (see the module); raises
    :class:`AnnotationFileError` listing the problems."""
    missing = [key for key in ('train_data', 'metadata', 'bbox') if key not in data]
    if missing:
        raise AnnotationFileError(f'{path}: no {missing} entry (has {sorted(data)}); an H3WB '
                                  'file has train_data, metadata and bbox')
    entries = {key: data[key].item() if isinstance(data[key], np.ndarray) and data[key].ndim == 0
               else data[key] for key in ('train_data', 'metadata', 'bbox')}
    for key, value in entries.items():
        if not isinstance(value, dict):
            raise AnnotationFileError(f'{path}: entry {key!r} is a {type(value).__name__}, '
                                      'expected a dict')
    problems: List[str] = []
    train, metadata, boxes = entries['train_data'], entries['metadata'], entries['bbox']
    for subject in (s for s in subjects if s in train):
        _check_cameras(metadata.get(subject), subject, cameras, problems)
        for action, entry in train[subject].items():
            where = f'subject {subject}, action {action}'
            if not isinstance(entry, dict) or 'frame_id' not in entry:
                problems.append(f'{where}: no field \'frame_id\'')
                continue
            frames = np.asarray(entry['frame_id']).reshape(-1)
            for camera in (c for c in cameras if c in entry):
                _check_view(entry[camera], frames, boxes, (subject, action, camera),
                            problems)
    if problems:
        listed = '\n  '.join(problems[:_MAX_LISTED])
        more = len(problems) - _MAX_LISTED
        raise AnnotationFileError(
            f'{path}: {len(problems)} malformed field(s):\n  {listed}'
            + (f'\n  (+{more} more)' if more > 0 else '')
            + '\nFix or regenerate the file; the dataset reads it as H3WB publishes it')


def _check_cameras(cameras_of_subject, subject: str, cameras, problems: List[str]) -> None:
    if not isinstance(cameras_of_subject, dict):
        problems.append(f'subject {subject}: no camera parameters in \'metadata\'')
        return
    for camera in cameras:
        where = f'subject {subject}, camera {camera}'
        params = cameras_of_subject.get(camera)
        if not isinstance(params, dict):
            problems.append(f'{where}: no entry in \'metadata\'')
            continue
        ok = all([_numeric(params.get('K'), (1, 3, 3), where, 'K', problems),
                  _numeric(params.get('R'), (1, 3, 3), where, 'R', problems),
                  _numeric(np.asarray(params.get('T', ())).reshape(-1), (3,), where, 'T',
                           problems)])
        if ok and min(params['K'][0, 0, 0], params['K'][0, 1, 1]) <= 0:
            problems.append(f'{where}: field \'K\' has focal length '
                            f'({params["K"][0, 0, 0]}, {params["K"][0, 1, 1]}); both must '
                            'be > 0 (in units of 1000 pixels)')


def _check_view(view, frames: np.ndarray, boxes: dict, key: Tuple[str, str, str],
                problems: List[str]) -> None:
    subject, action, camera = key
    where = f'subject {subject}, action {action}, camera {camera}'
    if not isinstance(view, dict):
        problems.append(f'{where}: not a dict of pose_2d/camera_3d')
        return
    count = len(frames)
    if not (_numeric(view.get('pose_2d'), (count, None, 2), where, 'pose_2d', problems)
            and _numeric(view.get('camera_3d'), (count, None, 3), where, 'camera_3d',
                         problems)):
        return
    for frame in frames:
        box = boxes.get((subject, action, camera, frame))
        if box is None:
            problems.append(f'{where}, frame {frame}: no \'bbox\' entry')
            continue
        values = [box.get(k) if isinstance(box, dict) else None
                  for k in ('x_min', 'y_min', 'x_max', 'y_max')]
        if not all(isinstance(v, (int, float, np.number)) and np.isfinite(v) for v in values) \
                or values[0] >= values[2] or values[1] >= values[3]:
            problems.append(f'{where}, frame {frame}: field \'bbox\' is {box!r}; expected '
                            'finite x_min < x_max and y_min < y_max')


@DATASETS.register_module()
class CheckedH3WBDataset(H36MWholeBodyDataset):
    """``H36MWholeBodyDataset`` (same arguments) reading the file without running code and
    checking it first (see the module).

    Args:
        scan_images: check every image file before the first iteration.
    """

    def __init__(self, *args, scan_images: bool = True, **kwargs) -> None:
        self.scan_images = scan_images
        super().__init__(*args, **kwargs)

    def _load_ann_file(self, ann_file: str) -> None:
        with get_local_path(ann_file) as local_path:
            data = read_plain_npz(local_path)
        check_h3wb(data, ann_file, self.subjects, self.camera_order_id)
        self.ann_data = data['train_data'].item()
        self.camera_data = data['metadata'].item()
        self.bboxes = data['bbox'].item()

    def _load_annotations(self):
        instances, images = super()._load_annotations()
        if self.scan_images:
            self._scan(sorted({path for info in instances for path in info['img_paths']}))
        return instances, images

    def _scan(self, paths: List[str]) -> None:
        problems = []
        for path in paths:
            problem, _ = image_problem(path)
            if problem:
                problems.append(f'{path}: {problem}')
        if problems:
            listed = '\n  '.join(problems[:_MAX_LISTED])
            more = len(problems) - _MAX_LISTED
            raise DataCheckError(
                f'{self.ann_file}: {len(problems)} of {len(paths)} images cannot be read:\n  '
                f'{listed}' + (f'\n  (+{more} more)' if more > 0 else '')
                + f'\nRestore them under {Path(self.data_root or ".") / "original"}, or '
                'set scan_images=False in the dataset config to find out when drawn')
