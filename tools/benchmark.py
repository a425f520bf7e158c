"""Speed of the plugin's RTMO against MMPose 1.3's own RTMO, in one run.

Both models are built from their configs (the plugin's and MMPose's RTMO-s at
640x640 by default) and share one set of (seeded, random) weights: the state
dicts are identical, so MMPose's weights load into the plugin with
``strict=True``. Every row times the two sides on the same inputs, in turns
(one plugin call, one MMPose call, ...) so that load from other processes
spreads over both, and reports the median and the speed-up
``MMPose ms / plugin ms`` (> 1: the plugin is faster). Rows:

- eager predict: ``model.test_step`` on one letterboxed image (batch 1):
  data preprocessor, backbone, neck, head, decoding, NMS, mapping back;
  the check column is the largest difference of all outputs.
- training step: forward, target assignment, losses and backward on one
  training batch (no optimizer step: both sides would run the same one), each side as
  its config trains it (the plugin's hooks store the weights channels-last and give Swish a
  one-kernel backward: ``ChannelsLastHook``, ``FusedSwishHook``); the plugin's loss without
  them and MMPose's are printed and compared, and how far the loss with them is (float
  rounding of channels-last convolutions). A second row runs the plugin's step under bf16
  autocast (what ``tools/train.py --amp`` trains with on a CPU) against MMPose's fp32 step;
  its check compares the plugin's bf16 and fp32 losses.
- step phases: the training step's parts timed separately (backbone + neck
  forward, head forward, targets + losses, head backward, backbone + neck
  backward): where the time goes.
- codec encode / decode: ``BoxSimCCLabel`` vs MMPose's ``SimCCLabel`` on the
  same keypoints (placed on bin centres, where both encode the same labels).
- peak memory: growth of the process's peak resident set (``VmHWM``) during one call.
- floor: the deploy model's convolution work per image over this CPU's peak in fp32, bf16
  (where the CPU has it) and int8, each the larger of the best GEMM measured here and cores x
  clock x operations per cycle of its flags (:mod:`rtmo_plugin.lab.peak`): no path of that
  precision can be faster; a last row names any timed path that was (the peak was then
  underestimated), and a warning is printed.

Deployment paths (ONNX, fast paths) come from :mod:`rtmo_plugin.deploy`. The rows are
functions of :mod:`rtmo_plugin.lab.benchmark`; this script builds the models and data and prints.

``--device cuda`` runs both models on the GPU: every timing waits for the GPU's queued work
(``torch.cuda.synchronize``), peak memory is the CUDA memory torch allocates, and the deploy
rows are the plugin's eager predict and the exported graph on onnxruntime's CUDA execution
provider (``onnxruntime-gpu``; a row says why where it is missing). The codec rows stay
numpy on the CPU; the floor is a CPU measure and is not offered. Without a CUDA device
it stops with a message.

Example::

    python tools/benchmark.py --threads 2 --repeats 20 --out results/benchmark.md
    python tools/benchmark.py --clock cpu --rows train,breakdown   # CPU time, fewer rows
    python tools/benchmark.py --device cuda --model l --repeats 50  # on a GPU
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import List, Optional, Tuple

import torch

from rtmo_plugin.lab import benchmark as bm
from rtmo_plugin.lab.builders import (
    SIZES,
    build_twins,
    coco_samples,
    size_configs,
    train_pipeline,
    val_pipeline,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / 'shared' / 'data' / 'coco-mini'
ROWS = ('predict', 'train', 'breakdown', 'codec', 'deploy', 'floor')
CPU_ONLY_ROWS = ('floor',)


def ensure_data(data: Optional[Path], work_dir: Path) -> Tuple[Path, str, str]:
    """``(data_root, ann_file, img_prefix)`` of a COCO-keypoints set; synthetic if absent."""
    if data is not None and (data / 'person_keypoints.json').is_file():
        return data, 'person_keypoints.json', ''
    from rtmo_plugin.synthetic import write_split
    print(f'{data} has no person_keypoints.json: using 4 synthetic images instead')
    write_split(work_dir, 'val', num_images=4, size=640, seed=0)
    return work_dir, 'annotations/person_keypoints_val.json', 'val/'


def batches(data: Tuple[Path, str, str], side: int, num_images: int):
    """Test batches (one image each) and a training batch of the image with the most people."""
    from mmengine.dataset import pseudo_collate

    root, ann_file, prefix = data
    kwargs = dict(ann_file=ann_file, img_prefix=prefix)
    tests = coco_samples(root, val_pipeline((side, side)), test_mode=True, **kwargs)
    train = coco_samples(root, train_pipeline((side, side)), **kwargs)
    busiest = max(train, key=lambda s: len(s['data_samples'].gt_instance_labels))
    return [pseudo_collate([t]) for t in tests[:num_images]], pseudo_collate([busiest])


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--model', choices=sorted(SIZES), default='s', help='RTMO size')
    parser.add_argument('--input-size', type=int, default=None,
                        help="square input side (default: the config's, 640 for s/m/l)")
    parser.add_argument('--data', type=Path, default=DEFAULT_DATA,
                        help='COCO-keypoints folder with person_keypoints.json and its images '
                             '(default ../shared/data/coco-mini; synthetic images if absent)')
    parser.add_argument('--images', type=int, default=4, help='images for eager predict')
    parser.add_argument('--threads', type=int, default=2, help='torch threads, both sides')
    parser.add_argument('--repeats', type=int, default=10, help='timed calls per row and side')
    parser.add_argument('--warmup', type=int, default=2, help='untimed calls first')
    parser.add_argument('--rows', default=None,
                        help='comma-separated subset of predict,train,breakdown (the '
                             "training step's phases),codec,deploy,floor (the CPU's fp32 / "
                             'bf16 / int8 limits); default: all that the device runs')
    parser.add_argument('--device', default='cpu',
                        help="where both models run: 'cpu' or 'cuda' / 'cuda:N' (a GPU)")
    parser.add_argument('--score-thr', type=float, default=0.0,
                        help='test score threshold; random weights score ~0.01 everywhere')
    parser.add_argument('--nms-pre', type=int, default=100,
                        help='candidates kept before NMS (top scores); they go through the DCC')
    parser.add_argument('--clock', choices=sorted(bm.CLOCKS), default='wall',
                        help="wall time, or this process's CPU time (less sensitive to other "
                             'processes on a shared machine)')
    parser.add_argument('--out', type=Path, default=None, help='also write the table here')
    args = parser.parse_args(argv)
    args.device = check_device(parser, args.device)
    on_gpu = args.device.type == 'cuda'
    if args.rows is None:
        args.rows = ','.join(r for r in ROWS if not (on_gpu and r in CPU_ONLY_ROWS))
    unknown = set(args.rows.split(',')) - set(ROWS)
    if unknown:
        parser.error(f'--rows: unknown {sorted(unknown)}; choose from {",".join(ROWS)}')
    if on_gpu and set(args.rows.split(',')) & set(CPU_ONLY_ROWS):
        parser.error(f'--rows {",".join(CPU_ONLY_ROWS)}: a CPU measure (convolution work over '
                     "the CPU's peaks); leave it out with --device cuda")
    if on_gpu and args.clock == 'cpu':
        parser.error("--clock cpu times this process's CPU, not the GPU's work: use --clock "
                     'wall with --device cuda')
    if min(args.repeats, args.images, args.threads) < 1 or args.warmup < 0:
        parser.error('--repeats, --images and --threads must be >= 1, --warmup >= 0')
    return args


def check_device(parser: argparse.ArgumentParser, name: str) -> torch.device:
    """``--device`` as a torch device that exists here; a parser error (exit 2) otherwise."""
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        parser.error(f"--device {name}: not a device; use 'cpu', 'cuda' or 'cuda:N'")
    if device.type not in ('cpu', 'cuda'):
        parser.error(f"--device {name}: only 'cpu' and 'cuda' are timed here")
    if device.type == 'cuda':
        if not torch.cuda.is_available():
            parser.error(f'--device {name}: this machine has no CUDA device that torch '
                         f'{torch.__version__} can use (torch.cuda.is_available() is False): '
                         'run on a machine with an NVIDIA GPU and a CUDA build of torch, or '
                         'time the CPU with --device cpu')
        index = 0 if device.index is None else device.index
        if index >= torch.cuda.device_count():
            parser.error(f'--device {name}: there are {torch.cuda.device_count()} CUDA '
                         'devices here (cuda:0 ...)')
        device = torch.device('cuda', index)
    return device


def main(argv=None) -> List[bm.Row]:
    args = parse_args(argv)
    device = args.device
    clock = bm.device_clock(bm.CLOCKS[args.clock], device)
    torch.set_num_threads(args.threads)
    wanted = set(args.rows.split(','))
    test_cfg = dict(score_thr=args.score_thr, nms_pre=args.nms_pre)
    plugin, ref = (model.to(device) for model in build_twins(args.model, test_cfg))
    side = args.input_size or {'t': 416}.get(args.model, 640)
    timing = dict(repeats=args.repeats, warmup=args.warmup, clock=clock)
    rows: List[bm.Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        tests, train_batch = batches(ensure_data(args.data, Path(tmp)), side, args.images)
        if wanted & {'predict', 'deploy', 'floor'}:
            rows += bm.predict_rows(plugin, ref, tests, **timing, device=device)
        # each side trains as its config says (the plugin's hooks change the model first)
        trained = (bm.as_trained(plugin, size_configs(args.model)[0])
                   if wanted & {'train', 'breakdown'} else None)
        if 'train' in wanted:
            rows += bm.train_rows(plugin, ref, train_batch, **timing, device=device,
                                  trained=trained)
            rows += bm.train_bf16_rows(trained, ref, train_batch, **timing, device=device)
        if 'breakdown' in wanted:
            rows += bm.train_breakdown_rows(trained, ref, train_batch, **timing)
        if 'codec' in wanted:
            rows += bm.codec_rows(**timing)
        if 'deploy' in wanted and device.type == 'cuda':
            rows += bm.cuda_deploy_rows(plugin, tests, rows[0].mmpose, args.repeats)
        elif 'deploy' in wanted:
            rows += bm.deploy_rows(plugin, tests, rows[0].mmpose, args.repeats, args.threads)
        if 'floor' in wanted:
            rows += bm.floor_rows(plugin, side, rows[0].mmpose, clock, timed=rows)
    title = (f'RTMO-{args.model} at {side}x{side} on {device}, batch 1, {args.threads} '
             f'threads, median {args.clock} time of {args.repeats} calls per side after '
             f'{args.warmup} warm-up; random weights (seed 0), test_cfg {test_cfg}\n\n'
             f'Machine: {bm.machine(device)}')
    table = bm.markdown(rows, title)
    print(table)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table + '\n')
        print(f'wrote {args.out}')
    return rows


if __name__ == '__main__':
    main()
