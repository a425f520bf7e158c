"""Data checks before iteration 1: what is left to train on, and can every image be read.

:class:`DataCheckHook` (``default_hooks.data_check`` in the base configs) runs at
``before_train`` on the built train and val datasets, and at ``before_test`` on the test set:

1. **Annotations** (training set): people whose keypoints, visibilities, box or area hold
   NaN/inf, people with an area <= 0 (OKS divides by it) and people with inverted boxes
   (negative width or height in the file) are dropped with a warning naming the image file,
   image id and annotation id; so NaN never reaches the assigner.
2. **The annotation file** (all sets, COCO-style JSON): what MMPose's parsing passes over
   silently (image or annotation ids given twice, annotations of no image, category ids the
   file does not list, width/height that disagree with the image file, ``file_name`` s that
   leave the image folder) stops the run, each problem named with the file, image id,
   annotation id and field.
3. **Summary** (training set): images and people left after the filtering that the
   pipeline's ``FilterAnnotations`` applies (>= ``min_kpt_vis`` labelled keypoints inside the
   image, box wider and taller than ``min_gt_bbox_wh``). When no person is left the hook
   raises :class:`DataCheckError` naming why (all keypoints invisible, zero-area boxes,
   keypoints outside the image) instead of training on nothing.
4. **Image files** (all sets, :mod:`rtmo_plugin.image_files`): a fast existence and header
   scan, no decoding: a JPEG's end-of-image marker after its last scan, a PNG's IEND chunk
   (both in the last 4 KB: :func:`rtmo_ort.is_truncated`), width and height from the
   header. Bad files stop the run before training with the list of files
   and the reason; with ``skip_bad_images=True`` each bad training image's slot is filled
   with the next good image (the epoch length and the schedule stay as configured, as for
   samples mmengine's datasets re-draw) and the files are listed in a warning.

An annotation file without any annotation makes mmengine fail while building the dataset,
before any hook: ``tools/train.py`` turns that failure into :func:`explain_empty_dataset`; a
malformed field that MMPose's parsing fails on (``KeyError: 'width'``) into the file's
problems (:func:`explain_dataset_failure`), and so does ``tools/test.py``.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpose.registry import HOOKS

from .image_files import scan_images
from .utils import leaf_datasets

# per-image keys of a bottom-up data info; every other array/list holds one row per person
_IMAGE_KEYS = {'img_id', 'img_path', 'invalid_segs', 'sample_idx', 'img_shape', 'ori_shape'}


class DataCheckError(ValueError):
    """The data cannot be trained on as it is; the message says what and how to fix it."""


# annotations --------------------------------------------------------------------------


@dataclass
class FilterRule:
    """What the pipeline's ``FilterAnnotations`` keeps (MMPose's defaults if it has none)."""

    min_kpt_vis: int = 1
    min_wh: Tuple[float, float] = (1.0, 1.0)

    @classmethod
    def from_dataset(cls, dataset) -> FilterRule:
        for transform in getattr(getattr(dataset, 'pipeline', None), 'transforms', []):
            if type(transform).__name__ == 'FilterAnnotations':
                return cls(int(getattr(transform, 'min_kpt_vis', 1)),
                           tuple(getattr(transform, 'min_gt_bbox_wh', (1.0, 1.0))))
        return cls()


@dataclass
class ScanReport:
    """Counts of one dataset's scan; ``reasons`` counts the people filtered out per reason."""

    name: str
    images: int = 0
    persons: int = 0
    trainable_images: int = 0
    trainable_persons: int = 0
    reasons: Dict[str, int] = field(default_factory=dict)
    dropped: List[str] = field(default_factory=list)     # non-finite / inverted people
    bad_images: List[str] = field(default_factory=list)  # 'path: reason'

    def summary(self) -> str:
        why = ', '.join(f'{n} {r}' for r, n in self.reasons.items() if n)
        return (f'{self.name}: {self.images} images, {self.persons} people; left after '
                f'filtering: {self.trainable_persons} people in {self.trainable_images} '
                f'images' + (f' (filtered out: {why})' if why else '')
                + (f'; dropped {len(self.dropped)} bad annotations' if self.dropped else ''))


def _person_count(info: dict) -> int:
    keypoints = info.get('keypoints')
    return 0 if keypoints is None else int(np.asarray(keypoints).shape[0])


def _bad_rows(info: dict) -> Dict[int, str]:
    """Rows (people) with non-finite values, an area <= 0 or inverted boxes -> why."""
    bad: Dict[int, str] = {}
    for key in ('keypoints', 'keypoints_visible', 'bbox', 'area'):
        values = info.get(key)
        if not isinstance(values, np.ndarray) or values.size == 0:
            continue
        values = np.atleast_1d(values)  # top-down infos hold one person's area as 0-d
        finite = np.isfinite(values.reshape(values.shape[0], -1).astype(np.float64)).all(1)
        for row in np.flatnonzero(~finite):
            bad.setdefault(int(row), f'non-finite {key}')
    area = info.get('area')
    if isinstance(area, np.ndarray) and area.size == _person_count(info) > 0:
        area = area.reshape(-1).astype(np.float64)
        for row in np.flatnonzero(area <= 0):  # NaN compares False: named above
            bad.setdefault(int(row), f'area {area[row]:g} <= 0 (OKS divides by the area; '
                           'COCO areas are the mask area in pixels)')
    raw = info.get('raw_ann_info')  # the file's xywh: MMPose clips inf into the image
    for row in range(_person_count(info) if isinstance(raw, list) else 0):
        box = raw[row].get('bbox') if row < len(raw) and isinstance(raw[row], dict) else None
        if box is not None and len(box) == 4 and not np.isfinite(np.asarray(box, float)).all():
            bad.setdefault(row, f'non-finite bbox in the file {box}')
    boxes = info.get('bbox')
    if isinstance(boxes, np.ndarray) and boxes.ndim == 2 and boxes.shape[1] == 4:
        # MMPose clips x + w into the image: a negative width gives x2 < x1
        for row in np.flatnonzero((boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])):
            bad.setdefault(int(row), 'inverted box (negative width or height in the file, '
                           f'xyxy {boxes[row].round(1).tolist()})')
    return bad


def _drop_rows(info: dict, rows: List[int]) -> dict:
    count = _person_count(info)
    keep = np.setdiff1d(np.arange(count), rows)
    out = {}
    for key, value in info.items():
        if (key not in _IMAGE_KEYS and isinstance(value, np.ndarray) and value.ndim
                and len(value) == count):
            value = value[keep]
        elif key not in _IMAGE_KEYS and isinstance(value, list) and len(value) == count:
            value = [value[i] for i in keep]
        out[key] = value
    return out


def _ann_ids(info: dict) -> list:
    ids = info.get('id')
    return list(ids) if isinstance(ids, (list, np.ndarray)) else [ids] * _person_count(info)


def _filter_reason(info: dict, row: int, dims, rule: FilterRule) -> Optional[str]:
    """Why ``FilterAnnotations`` would drop person ``row`` (None: it is trainable)."""
    visible = np.asarray(info['keypoints_visible'][row]).reshape(-1) > 0
    if visible.sum() < rule.min_kpt_vis:
        return 'with all keypoints invisible (v=0)'
    box = info.get('bbox')
    if box is not None:
        x1, y1, x2, y2 = np.asarray(box[row], dtype=np.float64)
        if x2 - x1 <= rule.min_wh[0] or y2 - y1 <= rule.min_wh[1]:
            return 'with zero-area boxes'
    if dims is not None:
        xy = np.asarray(info['keypoints'][row])[visible]
        inside = (xy[:, 0] >= 0) & (xy[:, 0] < dims[0]) & (xy[:, 1] >= 0) & (xy[:, 1] < dims[1])
        if inside.sum() < rule.min_kpt_vis:
            return 'with keypoints outside the image'
    return None


# the annotation file ------------------------------------------------------------------


def _leaves_folder(file_name: str, folder: str) -> bool:
    """Whether ``file_name`` joined to ``folder`` names a file outside it (``../``, or an
    absolute path elsewhere)."""
    if os.path.isabs(file_name):
        root = os.path.abspath(folder) if folder else None
        return root is None or not os.path.abspath(file_name).startswith(root + os.sep)
    norm = os.path.normpath(file_name)
    return norm == '..' or norm.startswith('..' + os.sep)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numbers(value, count: Optional[int] = None, multiple: int = 1) -> bool:
    return (isinstance(value, list) and all(_number(v) for v in value)
            and (len(value) == count if count is not None else len(value) % multiple == 0))


def _image_field_problems(image: dict) -> List[str]:
    """Fields of an ``images`` entry that MMPose's parsing reads and cannot use."""
    problems = []
    if not isinstance(image.get('id'), (int, str)) or isinstance(image.get('id'), bool):
        problems.append(f"field id={image.get('id')!r}: missing or not an integer")
    if not isinstance(image.get('file_name'), str) or not image.get('file_name'):
        problems.append(f"field file_name={image.get('file_name')!r}: missing or not a path")
    for key in ('width', 'height'):
        if not _number(image.get(key)) or image.get(key) <= 0:
            problems.append(f'field {key}={image.get(key)!r}: missing or not a positive number')
    return problems


def _annotation_field_problems(ann: dict) -> List[str]:
    """Fields of an ``annotations`` entry that MMPose's parsing reads and cannot use."""
    problems = []
    if not isinstance(ann.get('id'), (int, str)) or isinstance(ann.get('id'), bool):
        problems.append(f"field id={ann.get('id')!r}: missing or not an integer")
    if 'bbox' in ann and not _numbers(ann['bbox'], count=4):
        problems.append(f"field bbox={ann['bbox']!r}: not 4 numbers (x, y, width, height)")
    if 'keypoints' in ann and not _numbers(ann['keypoints'], multiple=3):
        value = repr(ann['keypoints'])
        problems.append(f'field keypoints={value[:60]}{"..." if len(value) > 60 else ""}: not '
                        'a list of numbers, three per keypoint (x, y, visibility)')
    if 'area' in ann and not _number(ann['area']):
        problems.append(f"field area={ann['area']!r}: not a number")
    if 'keypoints' in ann and 'bbox' not in ann:
        problems.append('field bbox: missing (MMPose skips a person without a box, and its '
                        'keypoints, without a word)')
    return problems


def _keypoint_problems(ann: dict, size: Optional[Tuple[float, float]]) -> List[str]:
    """Visibilities outside COCO's 0/1/2 (MMPose takes a negative one as a negative loss
    weight) and labelled keypoints more than an image size outside their ``size`` (w, h)
    image (a coordinate such as 1e30 overflows the augmentations into non-finite losses)."""
    if not _numbers(ann.get('keypoints'), multiple=3):
        return []  # named by _annotation_field_problems
    problems = []
    triples = np.asarray(ann['keypoints'], dtype=np.float64).reshape(-1, 3)
    odd = [i for i, v in enumerate(triples[:, 2]) if not 0 <= v <= 2]
    if odd:
        problems.append(f'field keypoints: visibility {triples[odd[0], 2]:g} of keypoint '
                        f'{odd[0]} ({len(odd)} such) is not 0 (unlabelled), 1 (occluded) or '
                        '2 (visible)')
    if size is not None:
        width, height = size
        x, y = triples[:, 0], triples[:, 1]
        far = np.flatnonzero((triples[:, 2] > 0) & ((x < -width) | (x > 2 * width)
                                                    | (y < -height) | (y > 2 * height)))
        if far.size:
            i = int(far[0])
            problems.append(f'field keypoints: keypoint {i} at ({x[i]:g}, {y[i]:g}) lies more '
                            f'than an image size outside the {width:g}x{height:g} image '
                            f'({far.size} such); unlabel it (v=0) or fix its coordinates')
    return problems


def _key(value):
    """``value`` as a dict key (unhashable ids, a malformed file's, by their repr)."""
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


def coco_file_problems(coco: dict, img_root: str,
                       dims: Optional[Dict[str, Tuple[int, int]]] = None) -> List[str]:
    """What MMPose's COCO parsing passes over in ``coco`` (a loaded COCO-style file), or
    fails on without naming the entry, one line each naming the image id, annotation id and
    field.

    Image ids given twice (one image and its people are lost), annotations whose image id no
    image has (never trained on), category ids that ``categories`` does not list (trained as
    people), ``width`` / ``height`` that disagree with the image file (MMPose clips the boxes to
    them; ``dims`` maps image paths to their ``(width, height)``), ``file_name`` s that leave
    ``img_root`` (``../``, absolute paths); missing or malformed fields (ids, sizes, a box of
    other than 4 numbers, keypoints that are not numbers in threes).
    """
    problems: List[str] = []
    images = [i for i in coco.get('images', []) if isinstance(i, dict)]
    seen: Dict[object, int] = {}
    for index, image in enumerate(images):
        image_id, name = _key(image.get('id')), image.get('file_name')
        where = f'image id {image_id} (images[{index}])'
        problems += [f'{where}: {why}' for why in _image_field_problems(image)]
        if image_id in seen:
            problems.append(f'{where}: field id: the same id as images[{seen[image_id]}] '
                            '(image ids must be unique)')
        seen.setdefault(image_id, index)
        if isinstance(name, str) and _leaves_folder(name, img_root):
            problems.append(f'{where}: field file_name={name!r} leaves the image folder '
                            f'{img_root!r} (absolute or ../); name files relative to it')
            continue
        size = (dims or {}).get(os.path.join(img_root, str(name)))
        labelled = (image.get('width'), image.get('height'))
        if size and labelled not in (size, size[::-1]):  # swapped: an EXIF rotation
            problems.append(f"{where}: fields width, height = {image.get('width')}, "
                            f"{image.get('height')} but {name} is {size[0]}x{size[1]} pixels")
    sizes = {_key(i.get('id')): (i['width'], i['height']) for i in images
             if _number(i.get('width')) and _number(i.get('height'))}
    categories = {_key(c.get('id')) for c in coco.get('categories') or [] if isinstance(c, dict)}
    ann_seen: Dict[object, int] = {}
    for index, ann in enumerate(a for a in coco.get('annotations', []) if isinstance(a, dict)):
        ann_id, image_id = _key(ann.get('id')), _key(ann.get('image_id'))
        where = f'annotation id {ann_id} (annotations[{index}], image id {image_id})'
        problems += [f'{where}: {why}' for why in _annotation_field_problems(ann)
                     + _keypoint_problems(ann, sizes.get(image_id))]
        if ann_id in ann_seen:
            problems.append(f'{where}: field id: the same id as annotations[{ann_seen[ann_id]}]'
                            ' (annotation ids must be unique)')
        ann_seen.setdefault(ann_id, index)
        if image_id not in seen:
            problems.append(f'{where}: field image_id={image_id!r}: no image has this id')
        if categories and _key(ann.get('category_id')) not in categories:
            problems.append(f"{where}: field category_id={ann.get('category_id')!r}: not "
                            f'among the categories of the file {sorted(categories, key=str)}')
    return problems


def check_coco_file(ann_file: str, img_root: str, name: str,
                    dims: Optional[Dict[str, Tuple[int, int]]] = None, limit: int = 20,
                    coco_only: bool = False) -> None:
    """Raises :class:`DataCheckError` listing :func:`coco_file_problems` of a COCO-style JSON
    ``ann_file`` (other files and remote paths are not read). With ``coco_only`` a JSON file
    that is not a COCO object (a list, no ``images`` list) is an error too; otherwise it is
    left alone (other formats, e.g. MPII's list)."""
    import json
    if not str(ann_file).endswith('.json') or '://' in str(ann_file) or \
            not os.path.isfile(ann_file):
        return
    try:
        coco = json.loads(Path(ann_file).read_text())
    except (ValueError, UnicodeDecodeError) as err:  # cut short, or not text
        raise DataCheckError(f'the annotation file {ann_file} of {name} is not valid JSON '
                             f'({err}); it may be truncated: download or write it again'
                             ) from None
    if not isinstance(coco, dict) or not isinstance(coco.get('images'), list):
        if coco_only:
            found = (f'an object with the keys {sorted(coco)[:8]}' if isinstance(coco, dict)
                     else f'a JSON {type(coco).__name__}')
            raise DataCheckError(f'the annotation file {ann_file} of {name} is not a COCO '
                                 f'annotation file: it holds {found}, where COCO files hold '
                                 'an object with "images", "annotations" and "categories" '
                                 'lists')
        return
    problems = coco_file_problems(coco, img_root, dims)
    if problems:
        more = f'\n  (+{len(problems) - limit} more)' if len(problems) > limit else ''
        raise DataCheckError(
            f'{len(problems)} problems in the annotation file {ann_file} of {name}:\n  '
            + '\n  '.join(problems[:limit]) + more + '\nfix the file (MMPose would train on it '
            'without a word, on wrong or missing labels); default_hooks.data_check.'
            'scan_ann_file=False skips this check')


def _dataset_cfgs(node):
    """The dataset configs with an ``ann_file`` under a dataset config (wrappers, lists)."""
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from _dataset_cfgs(item)
    elif isinstance(node, dict):
        if node.get('ann_file'):
            yield node
        yield from _dataset_cfgs(node.get('datasets'))
        yield from _dataset_cfgs(node.get('dataset'))


def explain_dataset_failure(cfg) -> Optional[str]:
    """After building a dataset of ``cfg`` failed (MMPose's parsing raises ``KeyError:
    'width'`` or ``not enough values to unpack`` without naming the entry): the problems of
    its COCO-style annotation files (:func:`coco_file_problems`), or None when they have none.
    """
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for dataset in _dataset_cfgs((cfg.get(key) or {}).get('dataset')):
            root = str(dataset.get('data_root') or '')
            ann_file = os.path.join(root, str(dataset['ann_file']))
            prefix = (dataset.get('data_prefix') or {}).get('img', '')
            try:
                check_coco_file(ann_file, os.path.join(root, str(prefix)), f'{key}.dataset',
                                coco_only=True)
            except DataCheckError as err:
                return str(err)
    return None


# datasets -----------------------------------------------------------------------------


def raw_data_infos(dataset) -> List[dict]:
    """A leaf dataset's stored data infos, without what MMPose's ``get_data_info`` adds
    (metainfo) or mmengine's (``sample_idx``): mmengine's own ``get_data_info``."""
    from mmengine.dataset import BaseDataset

    dataset.full_init()
    infos = [BaseDataset.get_data_info(dataset, index) for index in range(len(dataset))]
    for info in infos:
        info.pop('sample_idx', None)
    return infos


def set_data_infos(dataset, infos: List[dict]) -> None:
    """Replaces a leaf dataset's data infos (the same count: wrappers keep their sizes).

    mmengine has no public way to replace a built dataset's infos: ``data_list`` is the
    attribute ``full_init`` fills, and a serialised dataset (``serialize_data=True``, the
    default) is re-serialised with ``_serialize_data``, the private method ``full_init``
    itself calls (writing its byte format here would copy it)."""
    dataset.data_list = infos
    if getattr(dataset, 'serialize_data', False):
        dataset.data_bytes, dataset.data_address = dataset._serialize_data()


def check_annotations(infos: List[dict], dims: Dict[str, Tuple[int, int]], rule: FilterRule,
                      report: ScanReport, topdown: bool,
                      unreadable=()) -> Tuple[List[dict], List[int]]:
    """Drops bad people, fills in ``report``; returns the infos and the entries left empty
    (top-down entries are one person each: an entry whose person is dropped is empty).
    Entries of ``unreadable`` image files are not counted."""
    out, emptied = [], []
    for index, info in enumerate(infos):
        if info.get('img_path') in unreadable:
            out.append(info)
            continue
        bad = _bad_rows(info)
        ids = _ann_ids(info)
        for row, why in sorted(bad.items()):
            report.dropped.append(f"{info.get('img_path')} (image id {info.get('img_id')}, "
                                  f'annotation id {ids[row] if row < len(ids) else "?"}): {why}')
        if bad:
            info = _drop_rows(info, sorted(bad))
            if topdown and _person_count(info) == 0:
                emptied.append(index)
        count = _person_count(info)
        report.images += 1
        report.persons += count
        kept = 0
        for row in range(count):
            why = _filter_reason(info, row, dims.get(info.get('img_path')), rule)
            if why is None:
                kept += 1
            else:
                report.reasons[why] = report.reasons.get(why, 0) + 1
        report.trainable_persons += kept
        report.trainable_images += kept > 0
        out.append(info)
    return out, emptied


def _fill_slots(infos: List[dict], bad: List[int], what: str) -> List[dict]:
    """Each entry in ``bad`` replaced by the next good one (cyclically)."""
    bad_set = set(bad)
    good = [i for i in range(len(infos)) if i not in bad_set]
    if not good:
        raise DataCheckError(f'{what}: no usable entry left')
    out = list(infos)
    for index in bad:
        out[index] = infos[next((g for g in good if g > index), good[0])]
    return out


def explain_empty_dataset(ann_file: str) -> str:
    """Why an annotation file gives an empty bottom-up dataset, for the error message."""
    import json
    try:
        coco = json.loads(Path(ann_file).read_text())
    except (OSError, ValueError) as err:
        return f'{ann_file} cannot be read as JSON ({err})'
    anns = coco.get('annotations', [])
    with_kpts = [a for a in anns if a.get('keypoints')]
    return (f"{ann_file} has {len(coco.get('images', []))} images and {len(anns)} annotations"
            f' ({len(with_kpts)} with keypoints), so the training set is empty; a training '
            'set needs annotations with `bbox` and `keypoints` (check ann_file and that the '
            'annotations were not all removed)')


@HOOKS.register_module()
class DataCheckHook(Hook):
    """Checks the data before the first iteration (see the module docstring).

    Args:
        skip_bad_images: train without missing / undecodable / truncated training images
            (reported) instead of stopping; val and test images are never skipped.
        scan_images: scan the image files (set False for huge local sets scanned already).
        scan_ann_file: read COCO-style JSON annotation files once more for what MMPose's
            parsing passes over (:func:`coco_file_problems`).
    """

    priority = 'VERY_HIGH'

    def __init__(self, skip_bad_images: bool = False, scan_images: bool = True,
                 scan_ann_file: bool = True) -> None:
        self.skip_bad_images = skip_bad_images
        self.scan_images = scan_images
        self.scan_ann_file = scan_ann_file

    def before_train(self, runner) -> None:
        for leaf in leaf_datasets(runner.train_dataloader.dataset):
            report = self.check_train_dataset(leaf, 'train_dataloader.dataset')
            runner.logger.info(report.summary())
        if runner.val_loop is not None:
            self._check_files(runner.val_dataloader.dataset, 'val_dataloader.dataset')

    def before_test(self, runner) -> None:
        self._check_files(runner.test_dataloader.dataset, 'test_dataloader.dataset')

    def check_train_dataset(self, leaf, key: str) -> ScanReport:
        """Scans, drops bad annotations (and bad images if asked), raises if nothing is left."""
        name = f"{key} ({getattr(leaf, 'ann_file', type(leaf).__name__)})"
        infos = raw_data_infos(leaf)
        problems, dims = scan_images(infos) if self.scan_images else ({}, {})
        self._check_ann_file(leaf, name, dims)
        report = ScanReport(name)
        infos, emptied = check_annotations(infos, dims, FilterRule.from_dataset(leaf), report,
                                           getattr(leaf, 'data_mode', '') == 'topdown',
                                           unreadable=problems)
        for line in report.dropped:
            print_log(f'dropped an annotation of {line}', logger='current', level=logging.WARNING)
        bad = [i for i, info in enumerate(infos) if info.get('img_path') in problems]
        if problems and not self.skip_bad_images:
            raise DataCheckError(self._files_message(name, problems) + '; fix or remove them, '
                                 'or set default_hooks.data_check.skip_bad_images=True to '
                                 'train without them')
        if problems:
            report.bad_images = [f'{p}: {r}' for p, r in problems.items()]
            print_log(self._files_message(name, problems) + ' (skipped: '
                      'skip_bad_images=True)', logger='current', level=logging.WARNING)
        if report.trainable_persons == 0:
            why = ', '.join(f'{n} people {r}' for r, n in report.reasons.items()) or \
                'no person annotations'
            raise DataCheckError(
                f'nothing to train on in {name}: {report.images} images, {report.persons} '
                f'people, none left after filtering ({why}' + (
                    f'; {len(report.dropped)} annotations dropped as non-finite or inverted'
                    if report.dropped else '') + '); check the annotation file and the '
                'keypoint visibilities (v=1 or 2 for labelled keypoints)')
        if bad or emptied or report.dropped:
            set_data_infos(leaf, _fill_slots(infos, sorted(set(bad + emptied)), name)
                           if bad or emptied else infos)
        return report

    def _check_files(self, dataset, key: str) -> None:
        for leaf in leaf_datasets(dataset):
            name = f"{key} ({getattr(leaf, 'ann_file', '?')})"
            problems, dims = scan_images(raw_data_infos(leaf)) if self.scan_images else ({}, {})
            self._check_ann_file(leaf, name, dims)
            if problems:
                raise DataCheckError(self._files_message(name, problems)
                                     + '; fix or remove them (evaluation needs every image)')

    def _check_ann_file(self, leaf, name: str, dims) -> None:
        ann_file = getattr(leaf, 'ann_file', None)
        if self.scan_ann_file and ann_file:
            img_root = (getattr(leaf, 'data_prefix', None) or {}).get('img', '')
            check_coco_file(str(ann_file), str(img_root), name, dims)

    @staticmethod
    def _files_message(name: str, problems: Dict[str, str]) -> str:
        lines = ''.join(f'\n  {path}: {why}' for path, why in problems.items())
        return f'{len(problems)} unreadable image files in {name}:{lines}\n'
