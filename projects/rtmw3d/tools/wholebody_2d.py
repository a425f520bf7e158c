"""The whole-body 2-D demo on a CPU: the plugin's one-stage RTMO against a top-down RTMW (both
with 133 COCO-WholeBody keypoints) on the same synthetic multi-person images, for the same
CPU budget -> one table and one picture.

    python projects/rtmw3d/tools/wholebody_2d.py [--seed 0] [--budget 420]
        [--out results/rtmw3d-wholebody2d] [--data data/rtmw3d-wholebody2d]
        [--train-images 400] [--val-images 50] [--num-pictures 6]

1. writes the synthetic COCO-WholeBody set once (cached under --data by the generator's
   version): 128x128 images of 0-3 whole-body figures, each 0.6-0.95 of the image tall
   (rtmw3d/synthetic_wholebody.py: write_coco_wholebody_split);
2. measures the CPU cost of a training step of each model (a few steps each, both at once,
   one thread each) and sets each model's epochs so that steps x cost = --budget CPU seconds:
   the same CPU budget, not the same number of steps; while training, CPUBudgetHook moves
   the end of each schedule so that the training stays within the budget;
3. trains, from random init and at once (one process and one thread each), the tiny one-stage
   RTMO (whole images at 128x128) and the tiny top-down RTMW (person crops at 96x128) of
   configs/wholebody2d/, both with --seed;
4. tests on the val split with MMPose's CocoWholeBodyMetric: RTMO finds the people itself;
   RTMW is tested twice, given (a) the true person boxes and (b) RTMO's detected boxes (a
   COCO detection-results file, MMPose's ``bbox_file``: end to end). The per-part APs (body,
   foot, face, hands) come from the metric's result file with the COCOeval and sigmas the
   metric logs them with;
5. writes --out/metrics.md and metrics.json (one row per model and box source) and
   predictions.jpg (RTMO's 133 points of every person found in a few val images), and prints
   the table and the CPU it ran on.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Dict, List

from mmengine.config import Config
from mmengine.hooks import Hook

from rtmo_plugin.lab import demo_runner as dr

REPO = Path(__file__).resolve().parents[3]
CONFIGS = REPO / 'projects/rtmw3d/configs/wholebody2d'
RTMO = 'rtmo-tiny_wholebody2d_synthetic-128x128.py'
RTMW = 'rtmw-tiny_wholebody2d_synthetic-128x96.py'
IMAGE_SIZE = 128
CALIBRATION_STEPS = (3, 10)  # steps run before the clock starts, steps timed
MIN_EPOCHS = 2  # however small the budget
DRAW_SCALE = 4  # the pictures are drawn 4x larger: the images are 128 pixels wide
DRAW_SCORE_THR = 0.3
# COCOeval iouType of each part (xtcocotools), in the metric's order
PARTS = (('body', 'keypoints_body'), ('foot', 'keypoints_foot'), ('face', 'keypoints_face'),
         ('left hand', 'keypoints_lefthand'), ('right hand', 'keypoints_righthand'))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--seed', type=int, default=0, help='training seed of both models')
    parser.add_argument('--budget', type=float, default=420.0,
                        help='training CPU seconds of each model (one thread each)')
    parser.add_argument('--out', type=Path, default=REPO / 'results/rtmw3d-wholebody2d')
    parser.add_argument('--data', type=Path, default=REPO / 'data/rtmw3d-wholebody2d')
    parser.add_argument('--train-images', type=int, default=400)
    parser.add_argument('--val-images', type=int, default=50)
    parser.add_argument('--num-pictures', type=int, default=6, help='val images to draw')
    args = parser.parse_args(argv)
    if args.train_images < 8 or args.val_images < 1:
        parser.error('--train-images must be >= 8 (one batch) and --val-images >= 1')
    if args.budget <= 0 or args.seed < 0 or args.num_pictures < 1:
        parser.error('--budget must be > 0, --seed >= 0 and --num-pictures >= 1')
    return args


def prepare_data(root: Path, num_train: int, num_val: int, size: int = IMAGE_SIZE) -> Path:
    """The synthetic COCO-WholeBody train and val splits under ``root``, written once per
    (generator version, size, counts); later runs reuse them."""
    from projects.rtmw3d.rtmw3d.synthetic_wholebody import VERSION, write_coco_wholebody_split

    data_dir = root / f'v{VERSION}-size{size}-train{num_train}-val{num_val}-seed0'
    return dr.cached_splits(data_dir, 'coco_wholebody_{split}.json',
                            dict(train=num_train, val=num_val),
                            lambda split, count: write_coco_wholebody_split(
                                data_dir, split, count, image_size=size, seed=0))


def build_config(name: str, data_dir: Path, work_dir: Path, seed: int = 0) -> Config:
    """A comparison config on ``data_dir``, trained with ``seed``; the metric keeps its
    result file in ``work_dir``.

    Without yapf formatting: the RTMW base config carries the 14 Cocktail14 dataset
    definitions, which yapf takes tens of seconds to format each time the Runner logs or
    dumps the config (``Config.fromfile`` of mmengine 0.10 drops its ``format_python_code``
    argument, hence the copy).
    """
    cfg = Config.fromfile(str(CONFIGS / name))
    cfg = Config(cfg.to_dict(), filename=cfg.filename, format_python_code=False)
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        loader.dataset.data_root = str(data_dir) + '/'
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        evaluator.ann_file = str(data_dir / 'annotations/coco_wholebody_val.json')
    cfg.test_evaluator.outfile_prefix = str(work_dir / 'val')  # keeps val.keypoints.json
    cfg.randomness.seed = seed
    cfg.work_dir = str(work_dir)
    return cfg


def set_budget(cfg: Config, step_seconds: float, steps_per_epoch: int, budget: float) -> int:
    """Sets ``cfg``'s epochs so that its steps cost about ``budget`` CPU seconds (at least
    ``MIN_EPOCHS``), validation only by the final test; returns the epochs."""
    epochs = max(MIN_EPOCHS, round(budget / (step_seconds * steps_per_epoch)))
    dr.set_epochs(cfg, epochs)
    cfg.train_cfg.val_interval = epochs + 1  # no validation during training
    return epochs


# the two trainings run at once, each in a spawned process with one thread -----------------

class StepClockHook(Hook):
    """Reads this process's CPU clock after the first ``warmup`` training steps and after
    each later one: ``seconds_per_step`` of the steps after the warm-up."""

    priority = 'LOWEST'

    def __init__(self, warmup: int):
        self.warmup, self.start, self.end, self.steps = warmup, None, None, 0

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.start is None:
            if runner.iter + 1 >= self.warmup:
                self.start = time.process_time()
            return
        self.steps += 1
        self.end = time.process_time()

    @property
    def seconds_per_step(self) -> float:
        if not self.steps:
            raise RuntimeError('StepClockHook: no step was timed after the warm-up')
        return (self.end - self.start) / self.steps


class CPUBudgetHook(Hook):
    """Keeps a training within ``budget`` CPU seconds of this process: after each epoch it
    projects the rest at the mean cost of the last ``window`` epochs and moves the schedule's
    end to the last epoch that fits (the loop's last epoch and the last scheduler's end and
    cosine length move with it, so the learning rate still decays to its floor at the end;
    stage switches still ahead, such as RTMO's second stage, stay at the same fraction of
    the schedule).

    The planned epochs come from a few early steps (:func:`calibrate`), but a one-stage
    model's step gets dearer as it learns: SimOTA gives each person more positives once the
    predicted poses overlap their people, and the DCC runs once per positive."""

    priority = 'LOWEST'

    def __init__(self, budget: float, window: int = 3):
        self.budget, self.window = budget, window
        self.start, self.epoch_start, self.epochs, self.costs = None, None, None, []

    def before_train(self, runner) -> None:
        self.start, self.epochs = time.process_time(), runner.train_loop.max_epochs

    def before_train_epoch(self, runner) -> None:
        self.epoch_start = time.process_time()

    def after_train_epoch(self, runner) -> None:
        now = time.process_time()
        self.costs.append(now - self.epoch_start)
        cost = sum(self.costs[-self.window:]) / len(self.costs[-self.window:])
        done, loop = runner.epoch + 1, runner.train_loop
        end_epoch = max(done, MIN_EPOCHS,
                        done + int((self.budget - (now - self.start)) // cost))
        if end_epoch == loop.max_epochs:
            return
        runner.logger.info(f'CPUBudgetHook: {now - self.start:.0f} of {self.budget:.0f} CPU s '
                           f'used after {done} epochs, {cost:.1f} s per epoch: the schedule '
                           f'ends after {end_epoch} epochs, not {loop.max_epochs}')
        for hook in runner.hooks:  # RTMOModeSwitchHook's stages still ahead
            if isinstance(getattr(hook, 'epoch_attributes', None), dict):
                hook.epoch_attributes = {
                    epoch if epoch <= done else max(done, round(epoch * end_epoch
                                                                / loop.max_epochs)): change
                    for epoch, change in hook.epoch_attributes.items()}
        # mmengine's EpochBasedTrainLoop has no public setter for its length
        self.epochs = loop._max_epochs = end_epoch
        loop._max_iters = end_epoch * len(loop.dataloader)
        last = runner.param_schedulers[-1]
        last.end = end_epoch if last.by_epoch else loop.max_iters
        if hasattr(last, 'T_max'):
            last.T_max = max(1, last.end - last.begin)


def calibrate(cfg: Config) -> dict:
    """CPU seconds per training step of ``cfg`` in this process (a few steps timed after a
    warm-up, in a work dir of their own) and the steps of one epoch."""
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner
    from mmpose.registry import DATASETS

    cfg = copy.deepcopy(cfg)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    steps_per_epoch = math.ceil(len(DATASETS.build(cfg.train_dataloader.dataset))
                                / cfg.train_dataloader.batch_size)
    warmup, timed = CALIBRATION_STEPS
    if steps_per_epoch >= warmup + timed:  # one short epoch
        cfg.train_dataloader.dataset.indices = (warmup + timed) * cfg.train_dataloader.batch_size
    epochs = math.ceil((warmup + timed) / steps_per_epoch)
    cfg.train_cfg.update(max_epochs=epochs, val_interval=epochs + 1)
    cfg.default_hooks.checkpoint = None
    cfg.work_dir = str(Path(cfg.work_dir) / 'calibration')
    runner = Runner.from_cfg(dr._own_visualizer(cfg))
    clock = StepClockHook(warmup)
    runner.register_hook(clock)
    runner.train()
    return dict(step_seconds=clock.seconds_per_step, steps_per_epoch=steps_per_epoch)


def _train_on_budget(config_file: str, budget: float) -> dict:
    """In a fresh process with one thread: :func:`calibrate`, :func:`set_budget`, then
    training; returns the step cost, the schedule, and the CPU seconds and wall minutes of
    training."""
    import torch

    import projects.rtmw3d.rtmw3d  # noqa: F401  (registers the project and the plugin)
    torch.set_num_threads(1)
    cfg = Config.fromfile(config_file)
    cfg = Config(cfg.to_dict(), filename=config_file, format_python_code=False)
    cost = calibrate(cfg)
    epochs = set_budget(cfg, cost['step_seconds'], cost['steps_per_epoch'], budget)
    wall, cpu = time.time(), time.process_time()
    budget_hook = CPUBudgetHook(budget)
    dr.train(cfg, hooks=[budget_hook])
    epochs = budget_hook.epochs
    return dict(cost, epochs=epochs, steps=epochs * cost['steps_per_epoch'],
                cpu=time.process_time() - cpu, minutes=(time.time() - wall) / 60)


def train_both(cfgs: List[Config], budget: float) -> List[dict]:
    """:func:`_train_on_budget` of each config at once, one spawned process each."""
    files = []
    for cfg in cfgs:
        Path(cfg.work_dir).mkdir(parents=True, exist_ok=True)
        files.append(str(Path(cfg.work_dir) / 'run_config.py'))
        cfg.dump(files[-1])
    context = multiprocessing.get_context('spawn')  # fresh torch per process
    with ProcessPoolExecutor(len(files), mp_context=context) as pool:
        futures = [pool.submit(_train_on_budget, f, budget) for f in files]
        return [future.result() for future in futures]


# testing -----------------------------------------------------------------------------------

def part_aps(ann_file: Path, result_file: Path) -> Dict[str, float]:
    """AP of each body part (COCO-WholeBody's body, foot, face, hands) of the metric's result
    file: xtcocotools' COCOeval per part with the metainfo's sigmas, as CocoWholeBodyMetric
    runs it (it logs these but returns only the whole-body numbers)."""
    import contextlib
    import io

    import numpy as np
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    from xtcocotools.coco import COCO
    from xtcocotools.cocoeval import COCOeval

    sigmas = parse_pose_metainfo(
        dict(from_file='configs/_base_/datasets/coco_wholebody.py'))['sigmas']
    cuts = np.cumsum([0, 17, 6, 68, 21, 21])
    aps = {}
    with contextlib.redirect_stdout(io.StringIO()):  # COCOeval prints its summaries
        gt = COCO(str(ann_file))
        results = gt.loadRes(str(result_file))
        for i, (part, iou_type) in enumerate(PARTS):
            evaluation = COCOeval(gt, results, iou_type, sigmas[cuts[i]:cuts[i + 1]],
                                  use_area=True)
            evaluation.params.useSegm = None
            evaluation.evaluate()
            evaluation.accumulate()
            evaluation.summarize()
            aps[f'{part} AP'] = float(evaluation.stats[0])
    return aps


def evaluate(cfg: Config, checkpoint: Path) -> Dict[str, float]:
    """Whole-body AP and AR (the metric's) and each part's AP of ``checkpoint``."""
    metrics = dr.test(cfg, checkpoint)
    parts = part_aps(Path(cfg.test_evaluator.ann_file),
                     Path(cfg.test_evaluator.outfile_prefix + '.keypoints.json'))
    return {'whole-body AP': metrics['coco-wholebody/AP'], **parts,
            'AR': metrics['coco-wholebody/AR']}


def detect(cfg: Config, checkpoint: Path, data_dir: Path) -> list:
    """The one-stage model on every val image: ``[(image_id, image, result)]``, where
    ``result`` is MMPose's ``PoseDataSample`` (people in image pixels)."""
    import cv2
    from mmpose.apis import inference_bottomup, init_model

    model = init_model(cfg, str(checkpoint), device='cpu')
    images = json.loads((data_dir / 'annotations/coco_wholebody_val.json').read_text())['images']
    found = []
    for image in images:
        pixels = cv2.imread(str(data_dir / 'val' / image['file_name']))
        found.append((image['id'], pixels, inference_bottomup(model, pixels)[0]))
    return found


def write_bbox_file(found: list, path: Path) -> Path:
    """The detections as COCO detection results (xywh boxes), MMPose's ``bbox_file``."""
    boxes = []
    for image_id, _, result in found:
        people = result.pred_instances
        for (x0, y0, x1, y1), score in zip(people.bboxes, people.bbox_scores):
            boxes.append(dict(image_id=image_id, category_id=1, score=float(score),
                              bbox=[float(x0), float(y0), float(x1 - x0), float(y1 - y0)]))
    tmp = path.with_name(path.name + '.tmp')  # never leave a half-written file behind
    tmp.write_text(json.dumps(boxes))
    tmp.replace(path)
    return path


def draw(found: list, count: int, path: Path) -> Path:
    """The first ``count`` val images with the 133 points (and the figure model's bones) of
    every person the one-stage model found with a score of at least ``DRAW_SCORE_THR``."""
    import cv2
    import numpy as np

    from projects.rtmw3d.rtmw3d.synthetic_wholebody import BONES
    from rtmo_ort import Poses
    from rtmo_ort import draw as draw_poses

    tiles = []
    for _, image, result in found[:count]:
        people = result.pred_instances
        keep = people.bbox_scores >= DRAW_SCORE_THR
        poses = Poses(people.bboxes[keep] * DRAW_SCALE, people.bbox_scores[keep],
                      people.keypoints[keep] * DRAW_SCALE,
                      np.ones(people.keypoints[keep].shape[:2]))  # all 133 points
        canvas = cv2.resize(image, None, fx=DRAW_SCALE, fy=DRAW_SCALE,
                            interpolation=cv2.INTER_CUBIC)
        for keypoints in poses.keypoints:
            for a, b, _ in BONES:
                cv2.line(canvas, tuple(int(v) for v in keypoints[a]),
                         tuple(int(v) for v in keypoints[b]), (255, 255, 255), 1, cv2.LINE_AA)
        tiles.append(draw_poses(canvas, poses, keypoint_thr=0.5))
    return dr.save_tiles(path, tiles)


def main(argv=None) -> None:
    args = parse_args(argv)
    start = time.time()
    print(dr.machine_line())
    data_dir = prepare_data(args.data, args.train_images, args.val_images)
    cfgs = [build_config(name, data_dir, args.out / Path(name).stem, args.seed)
            for name in (RTMO, RTMW)]
    trained = train_both(cfgs, args.budget)
    for name, run in zip((RTMO, RTMW), trained):
        print(f'{name}: {run["step_seconds"]:.3f} CPU s per step, {run["epochs"]} epochs of '
              f'{run["steps_per_epoch"]} steps ({run["cpu"]:.0f} CPU s)')
    rtmo, rtmw = cfgs
    checkpoints = [dr.last_checkpoint(cfg.work_dir) for cfg in cfgs]
    found = detect(rtmo, checkpoints[0], data_dir)
    bbox_file = write_bbox_file(found, args.out / 'rtmo_detections.json')
    rtmw_detected = copy.deepcopy(rtmw)
    rtmw_detected.test_dataloader.dataset.bbox_file = str(bbox_file)
    rtmw_detected.test_evaluator.outfile_prefix = str(Path(rtmw.work_dir) / 'val_detected')
    tests = ((rtmo, checkpoints[0], 'RTMO-tiny (one-stage)', 'finds them', trained[0]),
             (rtmw, checkpoints[1], 'RTMW-tiny (top-down)', 'true boxes', trained[1]),
             (rtmw_detected, checkpoints[1], 'RTMW-tiny (top-down)', "RTMO's detections",
              trained[1]))
    rows = []
    for cfg, checkpoint, model, boxes, run in tests:
        if cfg is rtmw_detected and not json.loads(bbox_file.read_text()):
            print(f'{bbox_file}: the one-stage model found no one; every AP given them is 0')
            metrics = {'whole-body AP': 0.0, **{f'{p} AP': 0.0 for p, _ in PARTS}, 'AR': 0.0}
        else:
            metrics = evaluate(cfg, checkpoint)
        rows.append({'model': model, 'people': boxes, **metrics,
                     'steps': run['steps'], 'train CPU s': run['cpu'],
                     'train minutes': run['minutes']})
    picture = draw(found, args.num_pictures, args.out / 'predictions.jpg')
    note = (f'Synthetic COCO-WholeBody: {args.train_images} training and {args.val_images} '
            f'val images of {IMAGE_SIZE}x{IMAGE_SIZE}, 0-3 people each; both models from '
            f'random init (seed {args.seed}), batch 8, {args.budget:.0f} CPU seconds of '
            f'training each (one thread each, trained at once; epochs set from '
            f'{CALIBRATION_STEPS[1]} timed steps per model); CocoWholeBodyMetric on the val '
            f'split. Total {(time.time() - start) / 60:.1f} min on {dr.machine_line()}.')
    table = dr.write_table(args.out, rows, note=note)
    print(table.read_text())
    print(f'wrote {table}, {table.with_suffix(".json")} and {picture}')


if __name__ == '__main__':
    main()
