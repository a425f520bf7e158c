"""The plugin's reliability guards for this project's mmdet-scoped configs.

- the non-finite loss / gradient guard (``rtmo_plugin.engine.finite``): its optimiser
  wrappers and ``NonFiniteLossHook`` are registered in MMPose's registries; this module makes
  the same classes reachable from mmdet's (the scope of these configs), under their own
  names, so that ``tools/train.py --amp`` swaps ``FiniteOptimWrapper`` for its AMP twin here
  as it does for the RTMO configs;
- :class:`DetKeypointDataCheckHook`: every image of the train / val / test sets is checked
  before iteration 1 (missing, empty, truncated, undecodable, or of another size than the
  annotation file says), and the masks a ``segm`` evaluation needs are checked in its
  annotation file; the annotations themselves are checked by ``CocoPersonKeypointDataset``
  while it loads them;
- :class:`CheckedLoadFromHook`: ``load_from`` of a checkpoint of another architecture is
  refused before any tensor loads (mmengine would load what fits with ``strict=False`` and
  train the rest from scratch after a warning); fine-tuning from another model on purpose
  is the opt-in ``partial=True``.
"""
from __future__ import annotations

from typing import Iterator, List, Optional

from mmdet.registry import HOOKS, OPTIM_WRAPPERS
from mmengine.hooks import Hook
from mmengine.runner import BaseLoop

from rtmo_plugin.checkpoint import check_checkpoint
from rtmo_plugin.data_checks import DataCheckError
from rtmo_plugin.engine.amp import Bf16OptimWrapper, FiniteBf16OptimWrapper
from rtmo_plugin.engine.finite import FiniteAmpOptimWrapper, FiniteOptimWrapper, NonFiniteLossHook
from rtmo_plugin.image_files import image_problem

# (--amp: the AMP twin on a GPU, bf16 autocast on a CPU)
for _cls in (FiniteOptimWrapper, FiniteAmpOptimWrapper, FiniteBf16OptimWrapper,
             Bf16OptimWrapper):
    if OPTIM_WRAPPERS.get(_cls.__name__) is not _cls:
        OPTIM_WRAPPERS.register_module(module=_cls)
if HOOKS.get(NonFiniteLossHook.__name__) is not NonFiniteLossHook:
    HOOKS.register_module(module=NonFiniteLossHook)

MAX_LISTED = 10


def leaf_datasets(dataset) -> Iterator:
    """The datasets inside mmengine's wrappers (concat, repeat, class-balanced)."""
    if hasattr(dataset, 'datasets'):
        for child in dataset.datasets:
            yield from leaf_datasets(child)
    elif hasattr(dataset, 'dataset'):
        yield from leaf_datasets(dataset.dataset)
    else:
        yield dataset


def image_problems(dataset) -> List[str]:
    """``'<path> (image id <id>): <problem>'`` for every bad image file of ``dataset``:
    missing, empty, truncated, undecodable, or of another size than its data info says."""
    problems, seen = [], set()
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        path = info.get('img_path')
        if path is None or path in seen or '://' in str(path):
            continue
        seen.add(path)
        problem, size = image_problem(str(path))
        declared = (info.get('width'), info.get('height'))
        if problem is None and size is not None and None not in declared \
                and tuple(size) != tuple(declared):
            problem = (f'the file is {size[0]}x{size[1]}, the annotation file says '
                       f'{declared[0]}x{declared[1]} (width x height): fix the image '
                       'entry\'s width/height')
        if problem:
            problems.append(f'{path} (image id {info.get("img_id")}): {problem}')
    return problems


def segm_problems(evaluator) -> List[str]:
    """Annotations of a ``segm`` evaluation's ground truth that have no segmentation."""
    problems = []
    for metric in getattr(evaluator, 'metrics', []):
        coco = getattr(metric, '_coco_api', None)
        if 'segm' not in (getattr(metric, 'metrics', None) or []) or coco is None:
            continue
        for ann in coco.anns.values():
            if not ann.get('segmentation'):
                image = coco.imgs.get(ann.get('image_id'), {})
                problems.append(
                    f'{metric.ann_file}: {image.get("file_name")} (image id '
                    f'{ann.get("image_id")}) annotation id {ann.get("id")}: field '
                    '\'segmentation\' missing or empty')
    return problems


def listing(problems: List[str]) -> str:
    more = len(problems) - MAX_LISTED
    return '\n  '.join(problems[:MAX_LISTED]) + (f'\n  (+{more} more)' if more > 0 else '')


@HOOKS.register_module()
class DetKeypointDataCheckHook(Hook):
    """Refuses to start training (testing) on image files that cannot be read as the
    annotation file describes them, and a ``segm`` evaluation whose ground truth lacks
    masks, before iteration 1 and with every file at fault named.

    Runs ``before_train`` on the train and val sets and ``before_test`` on the test set.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        self._check(runner.train_dataloader.dataset, 'train_dataloader')
        if runner.val_loop is not None:
            self._check(runner.val_loop.dataloader.dataset, 'val_dataloader',
                        runner.val_loop.evaluator)

    def before_test(self, runner) -> None:
        self._check(runner.test_loop.dataloader.dataset, 'test_dataloader',
                    runner.test_loop.evaluator)

    def _check(self, dataset, key: str, evaluator: Optional[object] = None) -> None:
        problems = [p for leaf in leaf_datasets(dataset) for p in image_problems(leaf)]
        if problems:
            raise DataCheckError(
                f'{key}: {len(problems)} image files cannot be used:\n  {listing(problems)}\n'
                'Restore these files (or re-download the dataset), or remove their entries '
                'from the annotation file')
        problems = segm_problems(evaluator) if evaluator is not None else []
        if problems:
            raise DataCheckError(
                f'{key}: the evaluator computes mask AP (CocoMetric metric \'segm\') but '
                f'{len(problems)} ground-truth annotations have no segmentation:\n  '
                f'{listing(problems)}\nAdd their segmentations, or evaluate boxes and '
                'keypoints only (metric=[\'bbox\'])')


@HOOKS.register_module()
class CheckedLoadFromHook(Hook):
    """``load_from`` loads only a checkpoint whose tensors all fit the model (keys and
    shapes), else training stops before it starts with what differs and why.

    Args:
        partial: fine-tune from another model on purpose (another class count, a COCO
            Mask R-CNN without the keypoint branch, ...): the tensors that fit load, the
            others are listed in a warning and keep their initialisation.
    """

    priority = 'VERY_HIGH'

    def __init__(self, partial: bool = False) -> None:
        self.partial = partial

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if runner._resume or not isinstance(runner._train_loop, BaseLoop):
            return  # resuming its own checkpoint, or testing (tools/test.py checks it)
        check_checkpoint(runner.model, checkpoint, partial=self.partial,
                         option='default_hooks.load_check.partial=True',
                         name=f'load_from {runner._load_from}')
