"""Tiny Keypoint Mask R-CNN with and without the Global Context Module, on a CPU.

    python projects/mask_rcnn_gcm/tools/demo.py [--out results/mask_rcnn_gcm]
        [--data data/mask_rcnn_gcm] [--epochs 6] [--train-images 200] [--val-images 20]

1. generates synthetic people with masks (rtmo_plugin.synthetic, 160x160) once, cached
   under --data;
2. trains the tiny baseline (configs/tiny/kpt-mask-rcnn_tiny_synthetic-160.py, with the
   paper model's 1x1 stem) and the tiny paper model (+ refined keypoint features + GCM,
   ...-gcm_tiny_...) from random init for the same number of epochs, one after the other,
   with mmengine's Runner;
3. evaluates both on the held-out split: keypoint AP (MMPose's CocoMetric / xtcocotools),
   box and mask AP (mmdet's CocoMetric);
4. leaves in --out: metrics.md / metrics.json (the AP table) and predictions.jpg (the
   baseline's predictions in the top row, the GCM model's below, on the same val images).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from mmengine.config import Config

from rtmo_plugin.lab import demo_runner as dr

PROJECT = Path(__file__).resolve().parents[1]
REPO = PROJECT.parents[1]
MODELS = {  # table name -> tiny config
    'Keypoint Mask R-CNN + 1x1 stem (baseline)':
        'configs/tiny/kpt-mask-rcnn_tiny_synthetic-160.py',
    '+ refined features + GCM': 'configs/tiny/kpt-mask-rcnn-gcm_tiny_synthetic-160.py',
}
METRICS = {'keypoint AP': 'coco/AP', 'AP50': 'coco/AP .5', 'AP75': 'coco/AP .75',
           'keypoint AR': 'coco/AR', 'box AP': 'coco/bbox_mAP', 'mask AP': 'coco/segm_mAP'}
DRAW_SCORE_THR = 0.5
DRAW_SCALE = 3


def parse_args() -> argparse.Namespace:
    parser = dr.run_parser(
        __doc__, out=REPO / 'results/mask_rcnn_gcm', data=REPO / 'data/mask_rcnn_gcm',
        num_pictures=4, epochs=6,
        epochs_help='training epochs of each model (the tiny configs have 12; 6 keeps both '
                    'models within the 10-minute CPU budget)')
    parser.add_argument('--train-images', type=int, default=200)
    parser.add_argument('--val-images', type=int, default=20)
    args = parser.parse_args()
    dr.at_least(parser, args, 1, '--train-images', '--val-images', '--num-pictures', '--epochs')
    return args


def build_config(path: Path, data_dir: Path, work_dir: Path, epochs) -> Config:
    """The tiny config on the generated data, trained for ``epochs``, in ``work_dir``."""
    cfg = Config.fromfile(str(path))
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        loader.dataset.data_root = str(data_dir) + '/'
    for evaluator in (*cfg.val_evaluator, *cfg.test_evaluator):
        evaluator.ann_file = str(data_dir / 'annotations/person_keypoints_val.json')
    if epochs is not None:
        dr.set_epochs(cfg, epochs)
    # no validation while training: the test after it is the evaluation
    cfg.train_cfg.val_interval = cfg.train_cfg.max_epochs + 1
    cfg.work_dir = str(work_dir)
    return cfg


def draw(model, image, skeleton) -> np.ndarray:  # noqa: F821
    """The model's confident people on ``image`` (BGR): boxes, skeletons, keypoints."""
    import cv2
    from mmdet.apis import inference_detector

    people = inference_detector(model, image).pred_instances
    people = people[people.scores >= DRAW_SCORE_THR].cpu().numpy()
    canvas = cv2.resize(image, None, fx=DRAW_SCALE, fy=DRAW_SCALE)
    for box, kpts in zip(people.bboxes * DRAW_SCALE, people.keypoints * DRAW_SCALE):
        cv2.rectangle(canvas, tuple(int(v) for v in box[:2]), tuple(int(v) for v in box[2:]),
                      (0, 255, 0), 1)
        for a, b in skeleton:
            cv2.line(canvas, tuple(int(v) for v in kpts[a]), tuple(int(v) for v in kpts[b]),
                     (255, 255, 255), 2, cv2.LINE_AA)
        for x, y in kpts:
            cv2.circle(canvas, (int(x), int(y)), 3, (0, 0, 255), -1, cv2.LINE_AA)
    return canvas


def draw_predictions(runs: dict, data_dir: Path, out: Path, count: int) -> Path:
    """One row of val images per model, in ``runs`` order."""
    import cv2
    from mmdet.apis import init_detector

    paths = sorted((data_dir / 'val').glob('*.jpg'))[:count]
    tiles = []
    for name, (cfg, checkpoint) in runs.items():
        model = init_detector(cfg, str(checkpoint), device='cpu')
        skeleton = model.dataset_meta['skeleton_links']
        for path in paths:
            tile = draw(model, cv2.imread(str(path)), skeleton)
            cv2.putText(tile, name, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255),
                        1, cv2.LINE_AA)
            tiles.append(tile)
    return dr.save_tiles(out / 'predictions.jpg', tiles, columns=len(paths))


def main() -> None:
    args = parse_args()
    start = time.time()
    machine = dr.machine_line()
    print(machine)
    size = Config.fromfile(str(PROJECT / next(iter(MODELS.values())))).size
    data_dir = dr.synthetic_coco(args.data, args.train_images, args.val_images, size,
                                 masks=True)
    rows, runs = [], {}
    for name, config in MODELS.items():
        cfg = build_config(PROJECT / config, data_dir, args.out / 'work' / Path(config).stem,
                           args.epochs)
        print(f'\n=== {name}: {config}, {cfg.train_cfg.max_epochs} epochs')
        result = dr.train_and_test(cfg)
        rows.append(dict(model=name, **{k: result.metrics[v] for k, v in METRICS.items()},
                         minutes=result.minutes))
        runs[name] = (cfg, result.checkpoint)
    note = (f'Synthetic people, {args.train_images} train / {args.val_images} val images of '
            f'{size}x{size}, {cfg.train_cfg.max_epochs} epochs each from random init. '
            f'minutes: training + testing on {machine}.')
    table = dr.write_table(args.out, rows, note=note)
    picture = draw_predictions(runs, data_dir, args.out, args.num_pictures)
    print('\n' + table.read_text())
    print(f'finished in {(time.time() - start) / 60:.1f} min')
    print(f'AP table:    {table}\npredictions: {picture}')


if __name__ == '__main__':
    main()
