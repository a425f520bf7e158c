"""COCO keypoint AP of every inference path on a COCO-layout dataset."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from torch import nn

from ..deploy.backends import ALL_PATHS, Predictor, build_backends
from .deploy_bench import load_images

STAT_NAMES = ('AP', 'AP50', 'AP75', 'AP_M', 'AP_L', 'AR', 'AR50', 'AR75', 'AR_M', 'AR_L')


def keypoint_sigmas(model) -> np.ndarray:
    """OKS sigmas from the model's dataset metainfo (the single source of them)."""
    sigmas = (getattr(model, 'dataset_meta', None) or {}).get('sigmas')
    if sigmas is None:
        raise ValueError('the model has no dataset_meta.sigmas; build it with build_model()')
    return np.asarray(sigmas, dtype=np.float32)


def coco_results(predict: Predictor, images: Sequence[np.ndarray],
                 image_ids: Sequence[int]) -> List[dict]:
    """COCO keypoint results (instance score = person score, as RTMO's CocoMetric)."""
    results = []
    for image, image_id in zip(images, image_ids):
        poses = predict(image)
        if len(poses.scores) == 0:
            continue
        for score, kpts, kpt_scores in zip(poses.scores, poses.keypoints, poses.keypoint_scores):
            flat = np.concatenate((kpts, kpt_scores[:, None]), axis=1).reshape(-1)
            results.append(dict(image_id=int(image_id), category_id=1, score=float(score),
                                keypoints=[float(v) for v in flat]))
    return results


def keypoint_ap(ann_file: Union[str, Path], results: List[dict],
                sigmas: np.ndarray) -> Dict[str, float]:
    """xtcocotools' keypoint COCOeval (as MMPose's CocoMetric) -> AP/AR statistics."""
    from xtcocotools.coco import COCO
    from xtcocotools.cocoeval import COCOeval

    if not results:
        return dict.fromkeys(STAT_NAMES, 0.0)
    gt = COCO(str(ann_file))
    evaluator = COCOeval(gt, gt.loadRes(results), 'keypoints', sigmas, use_area=True)
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    return {name: round(float(v), 4) for name, v in zip(STAT_NAMES, evaluator.stats)}


def read_images(ann_file: Path) -> List[dict]:
    """The ``images`` entries of a COCO keypoint file, each with an ``id`` and a
    ``file_name``; a ``ValueError`` names the file and what is wrong with it."""
    try:
        coco = json.loads(ann_file.read_text())
    except (ValueError, UnicodeDecodeError) as err:  # cut short, empty, or not text
        raise ValueError(f'{ann_file} is not valid JSON ({err}); it may be truncated: write '
                         'it again') from None
    images = coco.get('images') if isinstance(coco, dict) else None
    if not isinstance(images, list):
        raise ValueError(f'{ann_file} is not a COCO annotation file: it needs a top-level '
                         'object with an "images" list')
    if not images:
        raise ValueError(f'{ann_file} lists no images: nothing to evaluate')
    for index, item in enumerate(images):
        if not (isinstance(item, dict) and isinstance(item.get('file_name'), str)
                and isinstance(item.get('id'), int) and not isinstance(item.get('id'), bool)):
            raise ValueError(f'{ann_file}: images[{index}] needs an integer "id" and a '
                             f'"file_name" string, has {str(item)[:80]}')
    return images


def annotation_file(data_root: Union[str, Path], split: str) -> Path:
    """``{data_root}/annotations/person_keypoints_{split}.json``; ``FileNotFoundError`` when
    it is missing."""
    ann_file = Path(data_root) / 'annotations' / f'person_keypoints_{split}.json'
    if not ann_file.is_file():
        raise FileNotFoundError(f'{ann_file} not found: expected a COCO-layout dataset '
                                '(python -m rtmo_plugin.synthetic makes one)')
    return ann_file


def evaluate_paths(model: nn.Module, data_root: Union[str, Path], split: str = 'val',
                   names: Sequence[str] = ALL_PATHS, calibration_images: int = 16,
                   work_dir: Optional[Union[str, Path]] = None) -> Dict[str, Dict[str, float]]:
    """AP per path of ``model`` (eval mode, CPU, with ``dataset_meta``: e.g.
    :func:`rtmo_plugin.deploy.export.build_model`'s) on ``{data_root}/{split}/*.jpg``,
    ``annotations/person_keypoints_{split}.json``.

    Static int8 is calibrated on up to ``calibration_images`` images of the
    ``train`` split when it exists, else of the evaluated split.
    """
    data_root = Path(data_root)
    ann_file = annotation_file(data_root, split)
    info = read_images(ann_file)
    images = load_images([data_root / split / item['file_name'] for item in info])
    calib_dir = data_root / 'train'
    calib_files = sorted(calib_dir.glob('*.jpg'))[:calibration_images]
    calibration = load_images(calib_files) if calib_files else images[:calibration_images]
    sigmas = keypoint_sigmas(model)
    with tempfile.TemporaryDirectory() as tmp:
        paths = build_backends(model, Path(work_dir or tmp), calibration, names)
        report, tops = {}, {}
        for name, predict in paths.items():
            results = coco_results(predict, images, [item['id'] for item in info])
            report[name] = keypoint_ap(ann_file, results, sigmas)
            tops[name] = top_people(results)
            # the symptom MMPose users reported for whole-graph int8: scores collapse towards 0
            report[name]['top_score'] = round(
                sum(r['score'] for r in tops[name].values()) / len(images), 4)
        reference = tops.get('ort_fp32')
        for name in report:
            if reference is not None:
                report[name]['top_kpt_px_vs_fp32'] = round(keypoint_gap(tops[name], reference), 3)
        return report


def top_people(results: List[dict]) -> Dict[int, dict]:
    """The best-scoring result of every image that has one."""
    best: Dict[int, dict] = {}
    for result in results:
        if result['score'] > best.get(result['image_id'], {'score': -1.0})['score']:
            best[result['image_id']] = result
    return best


def keypoint_gap(tops: Dict[int, dict], reference: Dict[int, dict]) -> float:
    """Mean keypoint distance (pixels) between two paths' best people, over shared images.

    Shows what a path changes even when AP cannot (e.g. a model with AP 0)."""
    shared = sorted(set(tops) & set(reference))
    if not shared:
        return float('nan')
    gaps = [np.linalg.norm(np.reshape(tops[i]['keypoints'], (-1, 3))[:, :2]
                           - np.reshape(reference[i]['keypoints'], (-1, 3))[:, :2], axis=1).mean()
            for i in shared]
    return float(np.mean(gaps))
