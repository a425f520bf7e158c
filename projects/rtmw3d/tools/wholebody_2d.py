"""Whole-body 2-D on a CPU: the plugin's one-stage RTMO against a top-down RTMW (both with
133 COCO-WholeBody keypoints) on the same synthetic images -> one table.

    python projects/rtmw3d/tools/wholebody_2d.py [--out results/rtmw3d-wholebody2d]
        [--data data/rtmw3d-wholebody2d] [--train-images 360] [--val-images 40]
        [--epochs N] [--procs P]

1. writes the synthetic COCO-WholeBody set once (cached under --data): one whole-body stick
   figure per 256x256 image (rtmw3d/synthetic_wholebody.py: write_coco_wholebody_split);
2. trains, from random init, the tiny one-stage RTMO (whole images resized to 128x128) and
   the tiny top-down RTMW (person crops at 96x128) of configs/wholebody2d/: the same images,
   the same batch (8) and number of steps (20 epochs, or --epochs for both);
3. tests both on the same val split with MMPose's CocoWholeBodyMetric: RTMO finds the people
   itself, RTMW is given the ground-truth person boxes; the per-part APs (body, foot, face,
   hands) are computed from the metric's result file with the same COCOeval and sigmas that
   the metric logs them with;
4. writes --out/metrics.md and metrics.json (one row per model) and prints the table and the
   CPU it ran on.
"""
from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path
from typing import Dict, Optional

from mmengine.config import Config

from rtmo_plugin.lab import demo_runner as dr

REPO = Path(__file__).resolve().parents[3]
CONFIGS = REPO / 'projects/rtmw3d/configs/wholebody2d'
MODELS = (  # (label, config file, how it is tested)
    ('RTMO-tiny (one-stage)', 'rtmo-tiny_wholebody2d_synthetic-128x128.py', 'finds the people'),
    ('RTMW-tiny (top-down)', 'rtmw-tiny_wholebody2d_synthetic-128x96.py', 'ground-truth boxes'),
)
IMAGE_SIZE = 256
# COCOeval iouType of each part (xtcocotools), in the metric's order
PARTS = (('body', 'keypoints_body'), ('foot', 'keypoints_foot'), ('face', 'keypoints_face'),
         ('left hand', 'keypoints_lefthand'), ('right hand', 'keypoints_righthand'))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', type=Path, default=REPO / 'results/rtmw3d-wholebody2d')
    parser.add_argument('--data', type=Path, default=REPO / 'data/rtmw3d-wholebody2d')
    parser.add_argument('--train-images', type=int, default=360)
    parser.add_argument('--val-images', type=int, default=40)
    parser.add_argument('--epochs', type=int, default=None,
                        help='epochs of both models (default: the configs\' 20)')
    parser.add_argument('--procs', type=int, default=1,
                        help='training processes per model (CPU, sharing the batch of 8)')
    args = parser.parse_args(argv)
    if args.train_images < 8 or args.val_images < 1:
        parser.error('--train-images must be >= 8 (one batch) and --val-images >= 1')
    if args.epochs is not None and args.epochs < 2:
        parser.error('--epochs must be >= 2 (the one-stage schedule warms up for one epoch)')
    if args.procs < 1 or 8 % args.procs:
        parser.error('--procs must divide the training batch of 8 (1, 2, 4 or 8)')
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


def build_config(name: str, data_dir: Path, work_dir: Path,
                 epochs: Optional[int] = None) -> Config:
    """A comparison config on ``data_dir``; the metric keeps its result file in ``work_dir``.

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
    if epochs is not None:
        dr.set_epochs(cfg, epochs)
        cfg.train_cfg.val_interval = epochs
    cfg.work_dir = str(work_dir)
    return cfg


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


def cpu_seconds() -> float:
    """user + sys CPU seconds of this process and its finished children."""
    own, children = (resource.getrusage(who) for who in
                     (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def train_and_evaluate(label: str, cfg: Config, procs: int) -> dict:
    """One row of the table: trains ``cfg`` (timed), tests its last checkpoint."""
    import torch

    wall, cpu = time.time(), cpu_seconds()
    dr.train(cfg, procs)
    wall, cpu = time.time() - wall, cpu_seconds() - cpu
    checkpoint = dr.last_checkpoint(cfg.work_dir)
    metrics = dr.test(cfg, checkpoint)
    parts = part_aps(Path(cfg.test_evaluator.ann_file),
                     Path(cfg.test_evaluator.outfile_prefix + '.keypoints.json'))
    steps = torch.load(checkpoint, map_location='cpu', weights_only=False)['meta']['iter']
    return {'model': label, 'whole-body AP': metrics['coco-wholebody/AP'], **parts,
            'AR': metrics['coco-wholebody/AR'], 'steps': steps,
            'train minutes': wall / 60, 'train CPU s': cpu}


def main(argv=None) -> None:
    args = parse_args(argv)
    start = time.time()
    print(dr.machine_line())
    data_dir = prepare_data(args.data, args.train_images, args.val_images)
    rows = []
    for label, name, _ in MODELS:
        cfg = build_config(name, data_dir, args.out / Path(name).stem, args.epochs)
        rows.append(train_and_evaluate(label, cfg, args.procs))
    tested = '; '.join(f'{label}: {how}' for label, _, how in MODELS)
    note = (f'Synthetic COCO-WholeBody: {args.train_images} training and {args.val_images} '
            f'val images of {IMAGE_SIZE}x{IMAGE_SIZE}, one figure each; both models from '
            f'random init, batch 8, the same steps; CocoWholeBodyMetric on the val split '
            f'({tested}). Training in {args.procs} process(es) per model. Total '
            f'{(time.time() - start) / 60:.1f} min on {dr.machine_line()}.')
    table = dr.write_table(args.out, rows, note=note)
    print(table.read_text())
    print(f'wrote {table} and {table.with_suffix(".json")}')


if __name__ == '__main__':
    main()
