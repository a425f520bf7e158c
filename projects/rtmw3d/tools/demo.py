"""RTMW3D on a CPU: synthetic H3WB-format data -> train the tiny RTMW3D -> MPJPE against two
baselines -> table and picture.

    python projects/rtmw3d/tools/demo.py [--out results/rtmw3d] [--data data/rtmw3d]

1. writes synthetic H3WB-format data once (cached under --data): 3-D whole-body stick figures
   seen by four H3.6M-like cameras, read by MMPose's H36MWholeBodyDataset;
2. trains the tiny config (configs/rtmw3d-tiny_*.py) from random init, and the same config with
   the z loss weight 0 (baseline: x and y train; the untrained z bins decode near the root's
   depth), side by side: one process each (half the cores each), on the config's whole batch;
3. evaluates both on the validation subject (S7) with MMPose's MPJPE, root-relative (root: the
   hips' midpoint), in metres, next to the training set's mean pose (root-aligned) as a
   second baseline;
4. leaves in --out: metrics.md / metrics.json (the table) and predictions.jpg (val images with
   predicted and true 2-D keypoints, and 3-D skeletons of prediction against truth).
"""
from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path
from typing import Dict, List

import numpy as np
from mmengine.config import Config

from rtmo_plugin.lab import demo_runner as dr

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / 'projects/rtmw3d/configs/rtmw3d-tiny_1xb16-32e_synthetic-128x96.py'


def parse_args() -> argparse.Namespace:
    parser = dr.run_parser(__doc__, out=REPO / 'results/rtmw3d', data=REPO / 'data/rtmw3d',
                           num_pictures=4, config=CONFIG, cfg_options=True,
                           epochs_help='override the schedule (dr.set_epochs)')
    parser.add_argument('--train-poses', type=int, default=100, help='4 images each')
    parser.add_argument('--val-poses', type=int, default=12, help='4 images each')
    parser.add_argument('--size', type=int, default=256, help='image side in pixels')
    args = parser.parse_args()
    dr.at_least(parser, args, 1, '--train-poses', '--val-poses', '--num-pictures', '--epochs')
    dr.at_least(parser, args, 64, '--size')
    return args


def prepare_data(root: Path, train_poses: int, val_poses: int, size: int) -> Path:
    """Generates the dataset once per (version, size, counts); later runs reuse it."""
    from projects.rtmw3d.rtmw3d import h3wb

    data_dir = root / f'v{h3wb.VERSION}-size{size}-train{train_poses}-val{val_poses}-seed0'
    return dr.cached(data_dir, h3wb.ANN_FILE,
                     lambda: h3wb.write(data_dir, train_poses, val_poses, size, seed=0),
                     f'{4 * train_poses} train and {4 * val_poses} val images', clean=True)


def build_config(args: argparse.Namespace, data_dir: Path, name: str,
                 z_weight: float = 1.0) -> Config:
    cfg = Config.fromfile(str(args.config))
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        loader.dataset.data_root = str(data_dir) + '/'
    if args.epochs is not None:
        dr.set_epochs(cfg, args.epochs)
        cfg.train_cfg.val_interval = args.epochs
    axis = list(cfg.model.head.axis_weights)
    cfg.model.head.axis_weights = (axis[0], axis[1], axis[2] * z_weight)
    cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = str(args.out / name)
    return cfg


def mean_pose_baseline(cfg: Config) -> Dict[str, float]:
    """The training set's mean root-relative pose predicted for every val sample."""
    from mmpose.registry import DATASETS

    from projects.rtmw3d.rtmw3d.metrics import RootRelativeMPJPE, root_relative

    def poses(dataset_cfg):
        dataset = DATASETS.build(dict(copy.deepcopy(dataset_cfg), pipeline=[]))
        return np.concatenate([dataset.get_data_info(i)['lifting_target']
                               for i in range(len(dataset))])

    mean = root_relative(poses(cfg.train_dataloader.dataset)).mean(0)
    metrics = {}
    for mode in ('mpjpe', 'p-mpjpe'):
        metric = RootRelativeMPJPE(mode=mode)
        for target in poses(cfg.val_dataloader.dataset):
            metric.process([], [dict(pred_instances=dict(keypoints=mean[None]),
                                     gt_instances=dict(lifting_target=target[None]))])
        metrics.update(metric.compute_metrics(metric.results))
    return metrics


def predict(cfg: Config, checkpoint: Path, indices: List[int]) -> list:
    """Val samples (image, ground truth, prediction) for the picture."""
    from mmengine.dataset import pseudo_collate
    from mmpose.apis import init_model
    from mmpose.registry import DATASETS

    model = init_model(cfg, str(checkpoint), device='cpu')
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    samples = model.test_step(pseudo_collate([dataset[i] for i in indices]))
    return [(dataset.get_data_info(i), s) for i, s in zip(indices, samples)]


def draw(cfg: Config, samples: list, out: Path) -> Path:
    """One row per sample: the image with 2-D keypoints (green truth, red prediction) and a
    3-D view of the root-relative skeletons (truth green, prediction red)."""
    import cv2
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from projects.rtmw3d.rtmw3d.metrics import root_relative
    from projects.rtmw3d.rtmw3d.synthetic_wholebody import BONES

    figure = plt.figure(figsize=(6.4, 3.2 * len(samples)), dpi=100)
    for row, (info, sample) in enumerate(samples):
        image = cv2.cvtColor(cv2.imread(info['img_path']), cv2.COLOR_BGR2RGB)
        truth_2d = info['keypoints'][0]
        pred_2d = sample.pred_instances.keypoints_2d[0]
        axis = figure.add_subplot(len(samples), 2, 2 * row + 1)
        axis.imshow(image)
        axis.scatter(*truth_2d.T, s=2, c='lime')
        axis.scatter(*pred_2d.T, s=2, c='red')
        axis.set_axis_off()
        truth = root_relative(info['lifting_target'])[0]
        pred = root_relative(sample.pred_instances.keypoints)[0]
        axis = figure.add_subplot(len(samples), 2, 2 * row + 2, projection='3d')
        for points, colour in ((truth, 'green'), (pred, 'red')):
            for a, b, _ in BONES:  # camera axes: x right, z forward (depth), y down
                axis.plot(*[[points[a, i], points[b, i]] for i in (0, 2)],
                          [-points[a, 1], -points[b, 1]], c=colour, lw=1)
        axis.set_xlabel('x (m)')
        axis.set_ylabel('depth (m)')
        axis.set_zlabel('-y (m)')
        axis.view_init(elev=15, azim=-70)
        for setter in (axis.set_xlim, axis.set_ylim, axis.set_zlim):
            setter(-1, 1)
    figure.tight_layout()
    path = out / 'predictions.jpg'
    figure.savefig(path)
    plt.close(figure)
    return path


def main() -> None:
    args = parse_args()
    start = time.time()
    print(dr.machine_line())
    data_dir = prepare_data(args.data, args.train_poses, args.val_poses, args.size)
    full_cfg = build_config(args, data_dir, 'rtmw3d-tiny')
    models = (('RTMW3D-tiny', full_cfg),
              ('same, z loss weight 0', build_config(args, data_dir, 'rtmw3d-tiny_no-z-loss',
                                                     z_weight=0.0)))
    results = dr.train_and_test_side_by_side([cfg for _, cfg in models])
    rows = [dict(model=label, **{k: result.metrics[k] for k in ('MPJPE', 'P-MPJPE', 'MPJPE_body')},
                 minutes=result.minutes) for (label, _), result in zip(models, results)]
    baseline = mean_pose_baseline(full_cfg)
    rows.append(dict(model='training-set mean pose', MPJPE=baseline['MPJPE'],
                     **{'P-MPJPE': baseline['P-MPJPE'], 'MPJPE_body': baseline['MPJPE_body']}))
    ratio = rows[0]['MPJPE'] / baseline['MPJPE']
    note = (f'Val: subject S7, {4 * args.val_poses} images; errors in metres, root-relative '
            '(root: the hips\' midpoint), MPJPE over 133 keypoints (MPJPE_body: the 17 body '
            f'points). RTMW3D-tiny / mean pose MPJPE = {ratio:.2f}. Trained from random init. '
            'The two models trained side by side, one process each. Total '
            f'{(time.time() - start) / 60:.1f} min '
            f'on {dr.machine_line()}.')
    table = dr.write_table(args.out, rows, note=note)
    count = min(args.num_pictures, 4 * args.val_poses)
    indices = [int(i) for i in np.linspace(0, 4 * args.val_poses - 1, count)]
    picture = draw(full_cfg, predict(full_cfg, results[0].checkpoint, indices),
                   args.out)
    print(table.read_text())
    print(f'wrote {table} and {picture}; {(time.time() - start) / 60:.1f} min in all')


if __name__ == '__main__':
    main()
