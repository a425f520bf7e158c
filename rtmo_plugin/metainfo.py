"""Dataset metainfo as the one source of the keypoint count and the OKS sigmas.

A config names its metainfo file once (``metafile = ...``) and passes it to the
datasets and to ``model.head.metainfo``. The head reads the keypoint count from it
and gives it to the OKS calculator of the assigner and to the OKS loss
(:func:`head_keypoint_setup`); :class:`KeypointMetainfoCheckHook` then checks, before
the first iteration, that the datasets, their annotations and the head agree.

Metafile paths: MMPose's bundled files are named as MMPose names them
(``'configs/_base_/datasets/coco.py'``; MMPose looks in the working directory, then
in its installed ``.mim`` copy); a file of your own is best named relative to the
config that uses it, ``'{{fileDirname}}/my_keypoints.py'``, which mmengine expands
to an absolute path when it reads the config, so any working directory works.
"""
from __future__ import annotations

from typing import Optional, Tuple, Union

import numpy as np
from mmengine.hooks import Hook
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmpose.registry import HOOKS

from .utils import leaf_datasets, unwrap

MetainfoSpec = Union[str, dict]
# PoseOKS falls back to COCO's file when given none, OKSLoss to no sigmas at all
_POSE_OKS_DEFAULT = 'configs/_base_/datasets/coco.py'


def metainfo_path(spec: MetainfoSpec) -> str:
    """The file of a metainfo given as a path or as ``dict(from_file=path)``."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, dict) and 'from_file' in spec:
        return spec['from_file']
    raise TypeError(f'metainfo must be a file path or dict(from_file=path), got {spec!r}')


def load_metainfo(spec: MetainfoSpec) -> dict:
    """Parsed metainfo (``num_keypoints``, ``sigmas``, ``flip_indices``, ...)."""
    return parse_pose_metainfo(dict(from_file=metainfo_path(spec)))


def head_keypoint_setup(num_keypoints: Optional[int], metainfo: Optional[MetainfoSpec],
                        assigner: Optional[dict], loss_oks: Optional[dict]
                        ) -> Tuple[int, Optional[dict], Optional[dict]]:
    """Keypoint count of the head and its OKS configs, made consistent.

    With ``metainfo`` the count comes from it and the assigner's OKS calculator and
    the OKS loss get its sigmas unless they name a file themselves. Any metainfo
    whose keypoint count differs from the head's raises a ``ValueError`` naming
    the config keys involved.

    Returns:
        ``(num_keypoints, assigner, loss_oks)``, the configs copied when filled in.
    """
    if metainfo is None:
        if num_keypoints is None:
            raise ValueError('RTMOPoseHead needs model.head.metainfo (the dataset metainfo '
                             "file, e.g. 'configs/_base_/datasets/coco.py') or "
                             'model.head.num_keypoints')
        count_key = f'model.head.num_keypoints={num_keypoints}'
    else:
        path = metainfo_path(metainfo)
        meta_count = load_metainfo(path)['num_keypoints']
        if num_keypoints is not None and num_keypoints != meta_count:
            raise ValueError(
                f'model.head.num_keypoints={num_keypoints} but model.head.metainfo '
                f'({path}) has {meta_count} keypoints; remove model.head.num_keypoints '
                '(the head reads it from the metainfo) or make them agree')
        num_keypoints = meta_count
        count_key = f'model.head.metainfo ({path}) with {meta_count} keypoints'
        if assigner is not None and assigner.get('oks_calculator') is not None:
            assigner = dict(assigner, oks_calculator=dict(assigner['oks_calculator']))
            assigner['oks_calculator'].setdefault('metainfo', path)
        if loss_oks is not None:
            loss_oks = dict(loss_oks)
            loss_oks.setdefault('metainfo', path)

    named = {}
    if assigner is not None and assigner.get('oks_calculator') is not None:
        named['model.head.assigner.oks_calculator.metainfo'] = \
            assigner['oks_calculator'].get('metainfo', _POSE_OKS_DEFAULT)
    if loss_oks is not None:
        named['model.head.loss_oks.metainfo'] = loss_oks.get('metainfo')
    for key, path in named.items():
        if path is None:
            continue
        count = load_metainfo(path)['num_keypoints']
        if count != num_keypoints:
            raise ValueError(
                f'{key} ({path}) has {count} keypoints but {count_key}; name the '
                'metainfo once in model.head.metainfo and remove it from the assigner '
                'and the OKS loss (the head passes it on)')
    return num_keypoints, assigner, loss_oks


def _annotation_keypoints(dataset) -> Optional[int]:
    """Keypoints per person in the first annotated sample (None if there is none)."""
    if hasattr(dataset, 'full_init'):
        dataset.full_init()
    for index in range(len(dataset)):
        keypoints = dataset.get_data_info(index).get('keypoints')
        if keypoints is not None and np.asarray(keypoints).size:
            return np.asarray(keypoints).shape[-2]
    return None


def _converted_count(dataset) -> Optional[int]:
    """Keypoint count a KeypointConverter in the dataset's pipeline maps to."""
    for transform in getattr(getattr(dataset, 'pipeline', None), 'transforms', []):
        if type(transform).__name__ == 'KeypointConverter':
            return transform.num_keypoints
    return None


def check_dataset(dataset, head, key: str) -> None:
    """Raises ``ValueError`` when ``dataset`` (config key ``key``) disagrees with ``head``.

    Checked: the dataset metainfo's keypoint count and OKS sigmas against the head,
    and every annotation file against its own dataset's metainfo (sub-datasets of
    a ``CombinedDataset`` may have their own keypoints when a ``KeypointConverter``
    maps them to the combined set).
    """
    meta = dataset.metainfo
    name = meta.get('dataset_name', '?')
    count = meta.get('num_keypoints')
    if count is not None and count != head.num_keypoints:
        raise ValueError(
            f'model.head.num_keypoints={head.num_keypoints} but the dataset metainfo of '
            f"{key} (dataset_name '{name}') has {count} keypoints; pass the dataset's "
            'metainfo file to model.head.metainfo (the head reads the count from it)')
    head_sigmas = getattr(getattr(head, 'assigner', None), 'oks_calculator', None)
    head_sigmas = getattr(head_sigmas, 'sigmas', None)
    if count is not None and head_sigmas is not None and meta.get('sigmas') is not None \
            and not np.allclose(head_sigmas.cpu().numpy(), meta['sigmas']):
        raise ValueError(
            f"the OKS sigmas of model.head (assigner.oks_calculator) differ from {key}'s "
            f"metainfo (dataset_name '{name}'); set model.head.metainfo to the dataset's "
            'metainfo file')
    for leaf in leaf_datasets(dataset):
        leaf_count = leaf.metainfo.get('num_keypoints')
        found = _annotation_keypoints(leaf)
        where = f"{key} ({getattr(leaf, 'ann_file', '?')})"
        if found is not None and leaf_count is not None and found != leaf_count:
            raise ValueError(
                f'the annotations of {where} have {found} keypoints per person but its '
                f"metainfo (dataset_name '{leaf.metainfo.get('dataset_name')}') has "
                f'{leaf_count}; set the dataset metainfo to a file describing these '
                'keypoints')
        converted = _converted_count(leaf)
        if leaf is not dataset and converted is not None and converted != count:
            raise ValueError(
                f'a KeypointConverter in {where} maps to {converted} keypoints but {key} '
                f"(dataset_name '{name}') has {count}; set its num_keypoints to {count}")


@HOOKS.register_module()
class KeypointMetainfoCheckHook(Hook):
    """Fails before the first iteration when the datasets and the head disagree.

    Our configs add it as ``default_hooks.metainfo_check`` (a dict key, so every
    derived config keeps it). See :func:`check_dataset` for what is checked.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        self._check(runner, 'train_dataloader', runner.train_dataloader)
        if runner.val_loop is not None:  # built by runner.train() before this hook
            self._check(runner, 'val_dataloader', runner.val_dataloader)

    def before_test(self, runner) -> None:
        self._check(runner, 'test_dataloader', runner.test_dataloader)

    @staticmethod
    def _check(runner, key: str, dataloader) -> None:
        model = unwrap(runner.model)
        head = getattr(model, 'head', None)
        if head is None or not hasattr(head, 'num_keypoints') or dataloader is None:
            return
        check_dataset(dataloader.dataset, head, f'{key}.dataset')
