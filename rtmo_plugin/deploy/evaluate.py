"""COCO keypoint AP of every inference path on a COCO-layout dataset."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from .bench import load_images
from .export import build_model
from .paths import ALL_PATHS, Predictor, build_paths

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


def evaluate_paths(config: Union[str, Path], checkpoint: Optional[Union[str, Path]],
                   data_root: Union[str, Path], split: str = 'val',
                   names: Sequence[str] = ALL_PATHS, calibration_images: int = 16,
                   work_dir: Optional[Union[str, Path]] = None) -> Dict[str, Dict[str, float]]:
    """AP per path on ``{data_root}/{split}/*.jpg``, ``annotations/person_keypoints_{split}.json``.

    Static int8 is calibrated on up to ``calibration_images`` images of the
    ``train`` split when it exists, else of the evaluated split.
    """
    data_root = Path(data_root)
    ann_file = data_root / 'annotations' / f'person_keypoints_{split}.json'
    if not ann_file.is_file():
        raise FileNotFoundError(f'{ann_file} not found: expected a COCO-layout dataset '
                                '(python -m rtmo_plugin.synthetic makes one)')
    info = json.loads(ann_file.read_text())['images']
    images = load_images([data_root / split / item['file_name'] for item in info])
    calib_dir = data_root / 'train'
    calib_files = sorted(calib_dir.glob('*.jpg'))[:calibration_images]
    calibration = load_images(calib_files) if calib_files else images[:calibration_images]
    model = build_model(config, checkpoint)
    sigmas = keypoint_sigmas(model)
    with tempfile.TemporaryDirectory() as tmp:
        paths = build_paths(model, Path(work_dir or tmp), calibration, names)
        report = {}
        for name, predict in paths.items():
            results = coco_results(predict, images, [item['id'] for item in info])
            report[name] = keypoint_ap(ann_file, results, sigmas)
            # MMPose #3240's symptom: int8 scores collapse towards 0
            report[name]['top_score'] = round(top_score(results, len(images)), 4)
        return report


def top_score(results: List[dict], num_images: int) -> float:
    """Mean over images of the best person score (0 for an image without detections)."""
    best: Dict[int, float] = {}
    for result in results:
        best[result['image_id']] = max(best.get(result['image_id'], 0.0), result['score'])
    return sum(best.values()) / max(num_images, 1)
