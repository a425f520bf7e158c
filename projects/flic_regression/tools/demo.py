"""The project's demo: the seed's ResNet-50 regression model against RTMPose-t (SimCC) and
MediaPipe Pose on FLIC-format data, on a CPU in minutes.

    python projects/flic_regression/tools/demo.py [--out results/flic_regression]
        [--data data/flic_regression] [--train-frames 200] [--test-frames 50] [--epochs 15]
        [--crop torsobox]

1. generates synthetic FLIC (720x480 frames, an ``examples.mat`` in FLIC's layout) once, and
   converts the real COCO persons of ../shared/data/coco-mini to FLIC's slots (synthetic COCO
   when that folder is absent);
2. trains the regression model and RTMPose-t from random init on the same frames, for the
   same epochs and batch (tiny configs under configs/), one after the other, validating every
   epoch on the training frames held out as the validation split (early stopping and the best
   checkpoint by validation PCK);
3. tests each best checkpoint once on the synthetic test split and on the converted COCO
   persons, and MediaPipe Pose on both as well when its environment exists
   (tools/install_mediapipe.sh). Every model sees each person through the same crop: the one
   FLIC's torso box gives (``--crop oracle``: a box around the ground-truth keypoints, an
   upper bound that the table then labels as such);
4. prints and writes --out/metrics.md (+ .json): torso PCK@0.2 (all, elbows, wrists), MSE of
   [0, 1] frame coordinates, Accuracy (torso PCK@0.5), missed persons; and
   --out/predictions.jpg (ground truth white, predictions coloured).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import cv2
import numpy as np
from mmengine.config import Config

from rtmo_plugin.lab import demo_runner as dr

PROJECT = Path(__file__).resolve().parents[1]
REPO = PROJECT.parents[1]
sys.path.insert(0, str(REPO))  # `projects` as a namespace package, also outside the .venv
from projects.flic_regression.flic_regression import data as flic_data  # noqa: E402
from projects.flic_regression.flic_regression import flic_format, slots  # noqa: E402

CONFIGS = PROJECT / 'configs'
MODELS = {
    'ResNet-50 regression': CONFIGS / 'resnet50-regression_tiny-cpu_synthetic-flic-64x64.py',
    'RTMPose-t (SimCC)': CONFIGS / 'rtmpose-t_boxsimcc_tiny-cpu_synthetic-flic-64x64.py',
}
MEDIAPIPE_SCRIPT = PROJECT / 'tools/mediapipe_baseline.py'
SHARED = Path(os.environ.get('RTMO_SHARED_DATA', REPO.parent / 'shared' / 'data'))
COLUMNS = ['model', 'data', 'persons', 'PCK', 'PCK_elbow', 'PCK_wrist', 'MSE', 'Accuracy',
           'missed', 'best_epoch', 'train_min']


def parse_args(argv=None) -> argparse.Namespace:
    parser = dr.run_parser(__doc__, out=REPO / 'results/flic_regression',
                           data=REPO / 'data/flic_regression', num_pictures=3, epochs=15,
                           epochs_help="epochs of each model (the seed's 15)")
    parser.add_argument('--train-frames', type=int, default=200)
    parser.add_argument('--test-frames', type=int, default=50)
    parser.add_argument('--batch-size', type=int, default=32, help='the seed\'s 32')
    parser.add_argument('--models', nargs='+', default=list(MODELS), choices=list(MODELS))
    parser.add_argument('--mediapipe-python', type=Path,
                        default=REPO / '.venv-mediapipe' / 'bin' / 'python',
                        help='python of the MediaPipe environment (install_mediapipe.sh); '
                        'MediaPipe is skipped when it does not exist')
    parser.add_argument('--crop', default='torsobox', choices=flic_format.CROPS,
                        help="torsobox: FLIC's protocol (default); oracle: a box around the "
                        'ground-truth keypoints, an upper bound, labelled as such')
    args = parser.parse_args(argv)
    dr.at_least(parser, args, 1, '--train-frames', '--test-frames', '--epochs', '--batch-size',
                '--num-pictures')
    return args


def prepare_synthetic(root: Path, num_train: int, num_test: int) -> Path:
    """Synthetic FLIC, generated once per (version, counts); later runs reuse it."""
    data_dir = root / f'synthetic-v{flic_data.VERSION}-train{num_train}-test{num_test}-seed0'
    return dr.cached(data_dir, 'examples.mat',
                     lambda: flic_data.write_synthetic_flic(data_dir, num_train, num_test, seed=0),
                     f'synthetic FLIC ({num_train} + {num_test} frames)')


def prepare_coco(root: Path) -> Dict:
    """COCO persons in FLIC's slots: the real coco-mini photos, or synthetic COCO without it."""
    coco_file, images, name = SHARED / 'coco-mini' / 'person_keypoints.json', None, 'coco-mini'
    if coco_file.is_file():
        images = coco_file.parent
    else:
        from rtmo_plugin.synthetic import write_split
        print(f'{coco_file} not found: synthetic COCO persons instead of the real photos')
        fallback = root / 'coco-synthetic'
        coco_file = write_split(fallback, 'val', 8, 256, seed=0)
        images, name = fallback / 'val', 'synthetic COCO'
    mat, kept, skipped = flic_data.write_coco_as_flic(coco_file, root / 'coco-flic' /
                                                      'examples.mat')
    print(f'{name}: {kept} persons in FLIC slots ({skipped} without a left shoulder or right '
          'hip left out)')
    return dict(name=name, mat=mat, images=images, persons=kept)


def set_schedule(cfg: Config, epochs: int, batch_size: int) -> None:
    """``epochs`` for either tiny config (dr.set_epochs: RTMPose's cosine at the same fraction,
    its pipeline switch before the last epoch); validation (on the held-out training frames)
    after every epoch, keeping the best."""
    dr.set_epochs(cfg, epochs)
    cfg.train_cfg.val_interval = 1
    cfg.train_dataloader.batch_size = batch_size


def set_crop(cfg: Config, crop: str) -> None:
    """Every dataset of ``cfg`` sees persons through ``crop``."""
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        loader.dataset.crop = crop


def best_checkpoint(work_dir: Path, since: float) -> Path:
    """The best-validation checkpoint that the run started at ``since`` saved."""
    found = [p for p in Path(work_dir).glob('best_*.pth') if p.stat().st_mtime >= since]
    if not found:
        raise SystemExit(f'no best_*.pth written in {work_dir} by this run: did it validate '
                         "(train_cfg.val_interval, default_hooks.checkpoint.save_best)?")
    return max(found, key=lambda p: p.stat().st_mtime)


def on_flic(cfg: Config, mat: Path, images: Path, work_dir: Path) -> Config:
    """``cfg`` testing on another FLIC-format file."""
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = str(work_dir)
    cfg.test_dataloader.dataset.update(data_root='', ann_file=str(mat),
                                       data_prefix=dict(img=str(images) + '/'), split='test')
    return cfg


def train_model(name: str, args, data_dir: Path, coco: Dict) -> tuple:
    cfg = Config.fromfile(str(MODELS[name]))
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        loader.dataset.data_root = str(data_dir) + '/'
    cfg.work_dir = str(args.out / 'work' / MODELS[name].stem)
    set_schedule(cfg, args.epochs, args.batch_size)
    set_crop(cfg, args.crop)
    print(f'\n== {name}: {args.epochs} epochs, batch {args.batch_size}, from random init ==')
    start = time.time()
    dr.train(cfg)
    minutes = (time.time() - start) / 60
    best = best_checkpoint(Path(cfg.work_dir), start)
    epoch = int(best.stem.rsplit('_', 1)[-1])
    print(f'{name}: best validation PCK at epoch {epoch} ({best.name}); testing it once')
    metrics = dr.test(cfg, best)
    persons = sum(ex.istest for ex in flic_format.read_examples(data_dir / 'examples.mat'))
    rows = [row(name, 'synthetic FLIC test', dict(metrics, persons=persons), minutes, epoch)]
    coco_metrics = dr.test(on_flic(cfg, coco['mat'], coco['images'],
                                   args.out / 'work' / 'coco'), best)
    rows.append(row(name, coco['name'], dict(coco_metrics, persons=coco['persons'])))
    return cfg, best, rows


def row(model: str, data: str, metrics: Dict, minutes: Optional[float] = None,
        best_epoch: Optional[int] = None) -> Dict:
    values = {k.split('/')[-1]: v for k, v in metrics.items()}
    out = dict(model=model, data=data, persons=values.pop('persons', None))
    out.update({k: values.get(k) for k in COLUMNS[3:-2]})
    out['best_epoch'] = best_epoch
    out['train_min'] = None if minutes is None else round(minutes, 2)
    return out


def run_mediapipe(python: Path, mat: Path, images: Path, out: Path,
                  crop: str) -> Optional[Dict]:
    command = [str(python), str(MEDIAPIPE_SCRIPT), '--ann', str(mat), '--images', str(images),
               '--out', str(out), '--crop', crop]
    proc = subprocess.run(command, capture_output=True, text=True)
    print(proc.stdout.strip())
    if proc.returncode != 0:
        print(f'MediaPipe failed ({" ".join(command)}):\n{proc.stderr[-2000:]}')
        return None
    return json.loads(out.read_text())


def draw(image: np.ndarray, coords: np.ndarray, colour, thickness: int) -> None:
    """Skeleton of the labelled slots (metainfo links) and a dot per keypoint."""
    from mmengine.config import Config as _Config
    links = _Config.fromfile(str(slots.METAINFO_FILE)).dataset_info['skeleton_info']
    for link in links.values():
        a, b = (coords[slots.INDEX[n]] for n in link['link'])
        if np.isfinite([*a, *b]).all():
            cv2.line(image, tuple(int(v) for v in a), tuple(int(v) for v in b), colour,
                     thickness, cv2.LINE_AA)
    for k in slots.LABELLED:
        if np.isfinite(coords[k]).all():
            cv2.circle(image, tuple(int(v) for v in coords[k]), thickness + 2, colour, -1,
                       cv2.LINE_AA)


def pictures(models: Dict, mp_preds: Optional[Dict], data_dir: Path, count: int,
             crop: str) -> List:
    """Per test person: a crop with the truth (white) and each model's prediction."""
    from mmpose.apis import inference_topdown, init_model
    examples = [ex for ex in flic_format.read_examples(data_dir / 'examples.mat') if ex.istest]
    estimators = {name: init_model(cfg, str(ckpt), device='cpu')
                  for name, (cfg, ckpt) in models.items()}
    colours = [(0, 140, 255), (255, 200, 0), (80, 220, 80)]
    tiles = []
    for i, ex in enumerate(examples[:count]):
        frame = cv2.imread(str(data_dir / 'images' / ex.filepath))
        box = flic_format.crop_box(ex, crop)
        preds = {name: inference_topdown(model, frame, box[None], 'xyxy')[0]
                 .pred_instances.keypoints[0] for name, model in estimators.items()}
        if mp_preds is not None:
            preds['MediaPipe'] = np.array(mp_preds['predictions'][i]['keypoints'], dtype=float)
        for (name, pred), colour in zip(preds.items(), colours):
            panel = frame.copy()
            draw(panel, ex.coords, (255, 255, 255), 2)
            draw(panel, pred, colour, 2)
            x0, y0 = np.maximum(box[:2], 0).astype(int)
            x1, y1 = box[2:].astype(int)
            panel = np.ascontiguousarray(panel[y0:y1, x0:x1])
            cv2.putText(panel, name, (5, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, colour, 2)
            tiles.append(cv2.resize(panel, (300, int(300 * panel.shape[0] / panel.shape[1]))))
    return tiles, len(preds)


def main(argv=None) -> None:
    args = parse_args(argv)
    start = time.time()
    print(dr.machine_line())
    data_dir = prepare_synthetic(args.data, args.train_frames, args.test_frames)
    coco = prepare_coco(args.data)
    rows, trained = [], {}
    for name in args.models:
        cfg, checkpoint, model_rows = train_model(name, args, data_dir, coco)
        trained[name] = (cfg, checkpoint)
        rows += model_rows
    mp_synthetic = None
    if args.mediapipe_python.is_file():
        print('\n== MediaPipe Pose (offline, its own environment) ==')
        mp_synthetic = run_mediapipe(args.mediapipe_python, data_dir / 'examples.mat',
                                     data_dir / 'images', args.out / 'mediapipe_synthetic.json',
                                     args.crop)
        mp_coco = run_mediapipe(args.mediapipe_python, coco['mat'], coco['images'],
                                args.out / 'mediapipe_coco.json', args.crop)
        for result, data in ((mp_synthetic, 'synthetic FLIC test'), (mp_coco, coco['name'])):
            if result is not None:
                rows.append(row('MediaPipe Pose', data, dict(
                    result['metrics'], persons=len(result['predictions']))))
    else:
        print(f'\nMediaPipe skipped: {args.mediapipe_python} not found (run '
              'projects/flic_regression/tools/install_mediapipe.sh)')
    tiles, columns = pictures(trained, mp_synthetic, data_dir, args.num_pictures, args.crop)
    picture = dr.save_tiles(args.out / 'predictions.jpg', tiles, columns)
    minutes = (time.time() - start) / 60
    examples = flic_format.read_examples(data_dir / 'examples.mat')
    held_out = len(flic_format.val_frames(examples))
    crop = ("each person seen through the crop its torso box gives (FLIC's protocol)"
            if args.crop == 'torsobox' else 'ORACLE crop: a box around the ground-truth '
            "keypoints, an upper bound, not FLIC's protocol")
    note = (f'Torso PCK@0.2 / MSE of [0, 1] frame coordinates / Accuracy = torso PCK@0.5, over '
            f'the 11 labelled slots (projects/flic_regression/README.md); {crop}. Both models '
            f'trained from random init for up to {args.epochs} epochs (batch {args.batch_size}, '
            f'early stopping) on {args.train_frames - held_out} synthetic frames, validated '
            f'every epoch on {held_out} held-out training frames; the checkpoint of the best '
            f'validation PCK (best_epoch) tested once. Demo: {minutes:.1f} min on '
            f'{dr.machine_line()}.')
    table = dr.write_table(args.out, rows, columns=COLUMNS, digits=4, note=note)
    print('\nFLIC metrics table:\n' + table.read_text())
    print(f'wrote {table} and {picture}')


if __name__ == '__main__':
    main()
