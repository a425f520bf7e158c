"""The main job: train and evaluate RTMO on the built-in synthetic dataset, on a CPU.

    python tools/demo.py [--out results/demo] [--data data/synthetic] [--epochs N] [--procs P]
        [--amp]

1. generates the synthetic COCO-keypoints dataset once (cached under --data),
2. trains the demo config (configs/demo/) with mmengine's Runner, validating as it goes.
   On a CPU with 2+ cores it trains in two processes (torchrun, gloo; on 2 cores one
   thread each) that share the config's batch: measured on 2 cores, a model this small
   gains little from a second thread in one process but keeps a core busy per process;
3. evaluates the final weights on the held-out split with MMPose's CocoMetric,
4. leaves in --out: metrics.md (COCO AP/AR table), predictions.jpg (MMPose's visualiser
   on val images) and curves.png (training losses and val AP over time).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Dict, List

from mmengine.config import Config

from rtmo_plugin.engine.amp import apply_amp
from rtmo_plugin.lab import demo_runner as dr
from rtmo_plugin.utils import write_atomic

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / 'configs/demo/rtmo-demo_synthetic-128x128.py'
DRAW_SCORE_THR = 0.3
DRAW_SCALE = 3


def parse_args() -> argparse.Namespace:
    parser = dr.run_parser(
        __doc__, out=REPO / 'results/demo', data=REPO / 'data/synthetic', num_pictures=6,
        config=CONFIG, cfg_options=True,
        epochs_help='train N epochs: the schedule and the second stage stretched to them '
                    '(dr.set_epochs), validating every N // 4')
    parser.add_argument('--train-images', type=int, default=400)
    parser.add_argument('--val-images', type=int, default=50)
    parser.add_argument('--amp', action='store_true',
                        help="mixed precision as tools/train.py --amp: bf16 autocast on a CPU "
                        'with AVX512-BF16 or AMX (fp32, said in the log, on one without), '
                        'fp16 on a GPU')
    parser.add_argument('--procs', type=int, default=None,
                        help='training processes (default: 2 with >= 2 cores and no GPU, else '
                        '1); more than one train on the CPU and share the config\'s batch')
    args = parser.parse_args()
    dr.at_least(parser, args, 1, '--num-pictures', '--procs')
    dr.at_least(parser, args, 2, '--epochs')
    return args


def build_config(cfg: Config, args: argparse.Namespace, data_dir: Path) -> Config:
    """Points the loaded demo config at the data and applies the command-line overrides."""
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        loader.dataset.data_root = str(data_dir) + '/'
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        evaluator.ann_file = str(data_dir / 'annotations/person_keypoints_val.json')
    if args.epochs is not None:
        dr.set_epochs(cfg, args.epochs)
        cfg.train_cfg.val_interval = max(1, args.epochs // 4)
    cfg.merge_from_dict(args.cfg_options)
    if args.amp:
        apply_amp(cfg)
    cfg.work_dir = str(args.out / 'work')
    return cfg


def write_metrics(metrics: Dict[str, float], out: Path) -> Path:
    path = write_atomic(out / 'metrics.md',
                        dr.markdown_table([dict(metric=k, value=v) for k, v in metrics.items()]))
    write_atomic(out / 'metrics.json', json.dumps(metrics, indent=2))
    return path


def draw_predictions(cfg, checkpoint: Path, data_dir: Path, out: Path, count: int) -> Path:
    """Runs the trained model on val images and tiles MMPose's drawings into one picture."""
    import mmcv
    from mmpose.apis import inference_bottomup, init_model
    from mmpose.registry import VISUALIZERS

    model = init_model(cfg, str(checkpoint), device='cpu')
    visualizer = VISUALIZERS.build(dict(type='PoseLocalVisualizer', name='rtmo_demo',
                                        radius=3, line_width=2))
    # the boxes' label text: the class name ('person'), not MMPose's fallback 'class 0'
    visualizer.set_dataset_meta(dict(model.dataset_meta, classes=('person',)))
    tiles = []
    for path in sorted((data_dir / 'val').glob('*.jpg'))[:count]:
        image = mmcv.imread(str(path))
        result = inference_bottomup(model, image)[0]
        # evaluation keeps every detection; the drawing shows the confident ones
        people = result.pred_instances[result.pred_instances.bbox_scores >= DRAW_SCORE_THR]
        # drawn DRAW_SCALE times larger: the demo's images are 128 pixels wide
        people.keypoints = people.keypoints * DRAW_SCALE
        people.bboxes = people.bboxes * DRAW_SCALE
        result.pred_instances = people
        image = mmcv.imrescale(image, DRAW_SCALE)
        visualizer.add_datasample('val', mmcv.bgr2rgb(image), data_sample=result,
                                  draw_gt=False, draw_bbox=True, show_kpt_idx=False,
                                  kpt_thr=0.3, show=False)
        tiles.append(visualizer.get_image())
    return dr.save_tiles(out / 'predictions.jpg', [mmcv.rgb2bgr(t) for t in tiles])


def plot_curves(records: List[dict], out: Path) -> Path:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    train = [r for r in records if 'loss' in r]
    val = [r for r in records if 'coco/AP' in r]
    fig, (ax_loss, ax_ap) = plt.subplots(1, 2, figsize=(12, 4.5))
    for key in sorted(k for k in train[0] if k.startswith('loss')):
        ax_loss.plot([r['step'] for r in train], [r[key] for r in train], label=key)
    # symlog: the MLE loss (and so the total) goes negative
    ax_loss.set(xlabel='iteration', ylabel='loss', title='training losses', yscale='symlog')
    ax_loss.legend(fontsize=8)
    ax_ap.plot([r['step'] for r in val], [r['coco/AP'] for r in val], 'o-', label='AP')
    ax_ap.plot([r['step'] for r in val], [r['coco/AR'] for r in val], 's--', label='AR')
    ax_ap.set(xlabel='epoch', ylabel='COCO keypoint metric', title='held-out synthetic val',
              ylim=(0, 1))
    ax_ap.legend()
    fig.tight_layout()
    path = out / 'curves.png'
    fig.savefig(path, dpi=100)
    return path


def main() -> None:
    args = parse_args()
    start = time.time()
    from mmengine.runner import Runner

    cfg = Config.fromfile(str(args.config))
    procs = args.procs or dr.default_procs()
    batch_size = args.cfg_options.get('train_dataloader.batch_size',
                                      cfg.train_dataloader.batch_size)
    if batch_size % procs:  # checked before minutes of data generation
        raise SystemExit(f'--procs {procs} must divide train_dataloader.batch_size={batch_size}')
    data_dir = dr.synthetic_coco(args.data, args.train_images, args.val_images, cfg.input_size[0])
    cfg = build_config(cfg, args, data_dir)
    args.out.mkdir(parents=True, exist_ok=True)

    print(dr.machine_line())
    scalars = dr.train(cfg, procs)
    checkpoint = dr.last_checkpoint(cfg.work_dir)
    cfg.load_from = str(checkpoint)
    metrics = Runner.from_cfg(cfg).test()

    table = write_metrics({k.replace('coco/', ''): v for k, v in metrics.items()}, args.out)
    picture = draw_predictions(cfg, checkpoint, data_dir, args.out, args.num_pictures)
    curves = plot_curves(dr.read_scalars(scalars), args.out)
    print('\n' + table.read_text())
    print(f'finished in {(time.time() - start) / 60:.1f} min')
    print(f'AP table:    {table}\npredictions: {picture}\ncurves:      {curves}')


if __name__ == '__main__':
    main()
