"""Speed of the one-stage model against the two-stage pipeline the paper compares with.

    python projects/mask_rcnn_gcm/tools/benchmark.py [--images DIR] [--repeats 3]
        [--config configs/kpt-mask-rcnn-gcm_r50-fpn-3x_coco.py] [--out results/mask_rcnn_gcm]

On the same images, in turns (one-stage, then detector + top-down, per image, per round):

* one stage: this project's Keypoint Mask R-CNN (default: the paper's model, R-50-FPN +
  refined features + GCM) at mmdet's test scale 1333x800;
* two stages: mmdet's stock Faster R-CNN R-50-FPN 1x (COCO, 80 classes) person detector,
  then MMPose's stock SimpleBaseline ResNet-50 256x192 on each person box.

Both from random weights (no downloads): the time of these models does not depend on
their weights, except through how many people are found, so both pipelines are given the
same number of people per image, the image's annotated count (``max_per_img`` of each
detector, score threshold 0; the top-down model gets that many person boxes). Each
pipeline's time includes its own image loading and preprocessing. Prints medians over
rounds, the per-stage split, and the ratio (the paper: 168 ms / 77 ms = 2.2x, on hardware
its abstract does not name; the authors' code was developed on one TITAN V GPU);
writes them to --out/benchmark.md.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Dict, List

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from rtmo_plugin.lab import demo_runner as dr

PROJECT = Path(__file__).resolve().parents[1]
REPO = PROJECT.parents[1]
SHARED = Path(os.environ.get('RTMO_SHARED_DATA', REPO.parent / 'shared' / 'data'))
DETECTOR = 'faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'                  # mmdet's .mim
TOP_DOWN = 'body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py'
PAPER_MS = dict(one_stage=77.0, two_stage=168.0)
MIN_BOX = 16.0  # random-weight detectors also output slivers; top-down boxes get this size


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--images', type=Path, default=SHARED / 'coco-mini',
                        help='folder of .jpg images with a COCO person_keypoints*.json '
                        '(the people count per image)')
    parser.add_argument('--config', type=Path,
                        default=PROJECT / 'configs/kpt-mask-rcnn-gcm_r50-fpn-3x_coco.py')
    parser.add_argument('--repeats', type=int, default=3, help='timed rounds (+1 warm-up)')
    parser.add_argument('--scale', type=int, nargs=2, default=None, metavar=('LONG', 'SHORT'),
                        help='test scale of both detectors (default: their configs\', '
                        '1333 800)')
    parser.add_argument('--out', type=Path, default=REPO / 'results/mask_rcnn_gcm')
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error('--repeats must be >= 1')
    return args


def people_per_image(folder: Path) -> Dict[Path, int]:
    """``{image: number of annotated people}`` from the folder's COCO annotation file."""
    files = sorted(folder.glob('person_keypoints*.json')) + sorted(
        folder.glob('annotations/person_keypoints*.json'))
    if not files:
        raise SystemExit(f'{folder} has no person_keypoints*.json: pass --images with a COCO '
                         'person-keypoints folder (e.g. ../shared/data/coco-mini)')
    coco = json.loads(files[0].read_text())
    counts = {img['id']: 0 for img in coco['images']}
    for ann in coco['annotations']:
        counts[ann['image_id']] += not ann.get('iscrowd', 0)
    root = files[0].parent if files[0].parent.name != 'annotations' else folder
    found = {}
    for img in coco['images']:
        path = next((p for p in (root / img['file_name'], folder / img['file_name'])
                     if p.is_file()), None)
        if path is not None and counts[img['id']]:
            found[path] = counts[img['id']]
    if not found:
        raise SystemExit(f'no image with people found next to {files[0]}')
    return found


def _set_scale(cfg: Config, scale) -> None:
    if scale is None:
        return
    for step in cfg.test_dataloader.dataset.pipeline:
        if 'scale' in step:
            step['scale'] = tuple(scale)


def build_models(args):
    """(one-stage detector, two-stage detector, top-down model), random weights, CPU."""
    import mmdet
    import mmpose
    from mmdet.apis import init_detector
    from mmpose.apis import init_model

    one_cfg = Config.fromfile(str(args.config))
    one_cfg.model.backbone.init_cfg = None
    one_cfg.model.test_cfg.rcnn.score_thr = 0.0
    det_cfg = Config.fromfile(str(Path(mmdet.__file__).parent / '.mim/configs' / DETECTOR))
    det_cfg.model.backbone.init_cfg = None
    det_cfg.model.test_cfg.rcnn.score_thr = 0.0
    for cfg in (one_cfg, det_cfg):
        _set_scale(cfg, args.scale)
    pose_cfg = Config.fromfile(str(Path(mmpose.__file__).parent / '.mim/configs' / TOP_DOWN))
    pose_cfg.model.backbone.init_cfg = None
    with DefaultScope.overwrite_default_scope('mmdet'):
        one_stage = init_detector(one_cfg, None, device='cpu')
        detector = init_detector(det_cfg, None, device='cpu')
    top_down = init_model(pose_cfg, None, device='cpu')
    return one_stage, detector, top_down


def person_boxes(result, count: int) -> np.ndarray:
    """The ``count`` best person boxes of a COCO detector (other classes if too few),
    widened to at least ``MIN_BOX`` pixels."""
    pred = result.pred_instances
    order = torch.argsort((pred.labels != 0).float() * 10 - pred.scores)[:count]
    boxes = pred.bboxes[order].cpu().numpy()
    centre, half = (boxes[:, :2] + boxes[:, 2:]) / 2, (boxes[:, 2:] - boxes[:, :2]) / 2
    half = np.maximum(half, MIN_BOX / 2)
    return np.concatenate([centre - half, centre + half], 1)


def time_image(models, path: Path, people: int) -> Dict[str, float]:
    """Milliseconds of each stage on one image."""
    import mmcv
    from mmdet.apis import inference_detector
    from mmpose.apis import inference_topdown

    one_stage, detector, top_down = models
    for model in (one_stage, detector):
        model.roi_head.test_cfg.max_per_img = people
    with DefaultScope.overwrite_default_scope('mmdet'):
        start = time.perf_counter()
        result = inference_detector(one_stage, str(path))
        one = time.perf_counter() - start
        assert len(result.pred_instances.keypoints) == people
        start = time.perf_counter()
        detections = inference_detector(detector, str(path))
        image = mmcv.imread(str(path))
        boxes = person_boxes(detections, people)
        det = time.perf_counter() - start
    with DefaultScope.overwrite_default_scope('mmpose'):
        start = time.perf_counter()
        poses = inference_topdown(top_down, image, boxes, bbox_format='xyxy')
        pose = time.perf_counter() - start
        assert len(poses) == people
    return dict(one_stage=one * 1e3, detector=det * 1e3, top_down=pose * 1e3)


def benchmark(models, images: Dict[Path, int], repeats: int) -> List[Dict[str, float]]:
    """Per-image medians over ``repeats`` rounds, after one warm-up round."""
    rounds = []
    with torch.inference_mode():
        for index in range(repeats + 1):
            times = [time_image(models, path, people) for path, people in images.items()]
            if index:  # the first round warms up
                rounds.append(times)
            print(f'round {index}: ' + ', '.join(
                f'{k} {sum(t[k] for t in times) / len(times):.0f} ms' for k in times[0]))
    return [{key: statistics.median(r[i][key] for r in rounds) for key in rounds[0][0]}
            for i in range(len(images))]


def summary_rows(per_image: List[Dict[str, float]], people: float) -> List[dict]:
    mean = {k: statistics.fmean(t[k] for t in per_image) for k in per_image[0]}
    two = mean['detector'] + mean['top_down']
    return [
        dict(pipeline='one stage: Keypoint Mask R-CNN + GCM (R-50-FPN)', stage='all',
             ms=mean['one_stage'], paper_ms=PAPER_MS['one_stage']),
        dict(pipeline='two stages: Faster R-CNN R-50-FPN', stage='person detection',
             ms=mean['detector'], paper_ms=None),
        dict(pipeline='two stages: SimpleBaseline R-50 256x192', stage=f'{people:.1f} people',
             ms=mean['top_down'], paper_ms=None),
        dict(pipeline='two stages', stage='all', ms=two, paper_ms=PAPER_MS['two_stage']),
        dict(pipeline='ratio two stages / one stage', stage='',
             ms=two / mean['one_stage'], paper_ms=PAPER_MS['two_stage'] / PAPER_MS['one_stage']),
    ]


def main() -> None:
    args = parse_args()
    torch.set_num_threads(dr.usable_cores())
    machine = dr.machine_line()
    print(machine)
    images = people_per_image(args.images)
    people = statistics.fmean(images.values())
    print(f'{len(images)} images, {people:.1f} people each on average')
    per_image = benchmark(build_models(args), images, args.repeats)
    rows = summary_rows(per_image, people)
    note = (f'Mean over {len(images)} images of the per-image median of {args.repeats} '
            f'rounds (ms; the ratio row: times), {torch.get_num_threads()} threads, random '
            f'weights, on {machine}. Paper: its abstract\'s times (the authors\' code: one TITAN V '
            'GPU).')
    table = dr.write_table(args.out, rows, name='benchmark', digits=2, note=note)
    print('\n' + table.read_text())


if __name__ == '__main__':
    main()
