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
  training batch (no optimizer step: both sides would run the same one);
  both loss values are printed and compared.
- step phases: the training step's parts timed separately (backbone + neck
  forward, head forward, targets + losses, head backward, backbone + neck
  backward): where the time goes.
- codec encode / decode: ``BoxSimCCLabel`` vs MMPose's ``SimCCLabel`` on the
  same keypoints (placed on bin centres, where both encode the same labels).
- peak memory: growth of the process's peak resident set (``VmHWM``, reset
  through ``/proc/self/clear_refs`` after ``malloc_trim``) during one call.
- fp32 floor: the deploy model's convolution work per image, this machine's
  fp32 matmul throughput, and their quotient: the time the convolutions alone
  take if they ran as fast as a large matmul, i.e. about the largest speed-up
  an fp32 path can reach without doing less arithmetic.

Deployment paths (ONNX, fast paths) are added by :func:`deploy_rows`.

Example::

    python tools/benchmark.py --threads 2 --repeats 20 --out results/benchmark.md
    python tools/benchmark.py --clock cpu --rows train,breakdown   # CPU time, fewer rows
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import ctypes
import datetime
import logging
import platform
import re
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / 'shared' / 'data' / 'coco-mini'
CONFIGS = {  # size -> (plugin config, MMPose config of the same model)
    's': ('configs/rtmo/coco/rtmo-s_8xb32-600e_coco-640x640.py',
          'body_2d_keypoint/rtmo/coco/rtmo-s_8xb32-600e_coco-640x640.py'),
    'm': ('configs/rtmo/coco/rtmo-m_16xb16-600e_coco-640x640.py',
          'body_2d_keypoint/rtmo/coco/rtmo-m_16xb16-600e_coco-640x640.py'),
    'l': ('configs/rtmo/coco/rtmo-l_16xb16-600e_coco-640x640.py',
          'body_2d_keypoint/rtmo/coco/rtmo-l_16xb16-600e_coco-640x640.py'),
    't': ('configs/rtmo/coco/rtmo-t_8xb32-600e_coco-416x416.py',
          'body_2d_keypoint/rtmo/body7/rtmo-t_8xb32-600e_body7-416x416.py'),
}
ROWS = ('predict', 'train', 'breakdown', 'codec', 'deploy', 'floor')


@dataclass
class Row:
    """One line of the table; ``speedup`` is ``mmpose_ms / plugin_ms``."""

    what: str
    plugin: Optional[float]
    mmpose: Optional[float]
    check: str = ''
    unit: str = 'ms'

    @property
    def speedup(self) -> Optional[float]:
        if self.plugin is None or self.mmpose is None or self.unit != 'ms':
            return None
        return self.mmpose / self.plugin


# measuring -------------------------------------------------------------------

CLOCKS = {'wall': time.perf_counter, 'cpu': time.process_time}
clock = CLOCKS['wall']  # --clock cpu: this process's CPU time (all threads), less load-sensitive


def time_pair(plugin_fn: Callable[[], object], mmpose_fn: Callable[[], object], repeats: int,
              warmup: int) -> Tuple[float, float]:
    """Median ms of each function, called in turns after ``warmup`` calls each."""
    for _ in range(warmup):
        plugin_fn()
        mmpose_fn()
    times: Tuple[List[float], List[float]] = ([], [])
    for _ in range(repeats):
        for fn, samples in zip((plugin_fn, mmpose_fn), times):
            start = clock()
            fn()
            samples.append((clock() - start) * 1e3)
    return statistics.median(times[0]), statistics.median(times[1])


def _status_kb(field: str) -> int:
    status = Path('/proc/self/status').read_text()
    return int(re.search(rf'^{field}:\s+(\d+) kB', status, re.M).group(1))


def peak_rss_growth_mb(fn: Callable[[], object]) -> Optional[float]:
    """Peak resident memory added by one call of ``fn``, in MB (Linux only, else None).

    Freed heap is handed back to the OS first (``malloc_trim``) so that memory
    the allocator kept from earlier calls does not hide this call's peak.
    """
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
        Path('/proc/self/clear_refs').write_text('5')  # VmHWM := VmRSS
        before = _status_kb('VmRSS')
    except (OSError, AttributeError):
        return None
    fn()
    return (_status_kb('VmHWM') - before) / 1024


# models and data ---------------------------------------------------------------

def build_models(size: str, test_cfg: dict, seed: int = 0):
    """The plugin's and MMPose's model with the same weights, ``(plugin, mmpose)``."""
    import mmpose
    from mmengine.config import Config
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    import rtmo_plugin  # noqa: F401  (registers the plugin)

    MMLogger.get_current_instance().setLevel(logging.WARNING)  # init_weights is chatty
    init_default_scope('mmpose')
    ours_path, ref_path = CONFIGS[size]
    ref_path = Path(mmpose.__file__).parent / '.mim' / 'configs' / ref_path
    models = []
    for path in (REPO / ours_path, ref_path):
        cfg = Config.fromfile(str(path)).model
        cfg.backbone.init_cfg = None             # no download; weights are copied below
        cfg.data_preprocessor.batch_augments = None  # random resizing would differ
        cfg.test_cfg.update(test_cfg)
        torch.manual_seed(seed)
        model = MODELS.build(cfg)
        model.init_weights()
        models.append(model)
    plugin, ref = models
    plugin.load_state_dict(ref.state_dict(), strict=True)
    return plugin, ref


def ensure_data(data: Optional[Path], work_dir: Path) -> Tuple[Path, str, str]:
    """``(data_root, ann_file, img_prefix)`` of a COCO-keypoints set; synthetic if absent."""
    if data is not None and (data / 'person_keypoints.json').is_file():
        return data, 'person_keypoints.json', ''
    from rtmo_plugin.synthetic import write_split
    print(f'{data} has no person_keypoints.json: using 4 synthetic images instead')
    write_split(work_dir, 'val', num_images=4, size=640, seed=0)
    return work_dir, 'annotations/person_keypoints_val.json', 'val/'


def batches(data: Tuple[Path, str, str], input_size: Tuple[int, int], num_images: int):
    """Test samples (the val pipeline: letterbox to ``input_size``), one per image,
    and a training batch of one image, the one with the most people."""
    from mmengine.dataset import pseudo_collate
    from mmpose.registry import DATASETS

    root, ann_file, img_prefix = data
    test_pipeline = [
        dict(type='LoadImage'),
        dict(type='BottomupResize', input_size=input_size, pad_val=(114, 114, 114)),
        dict(type='PackPoseInputs',
             meta_keys=('id', 'img_id', 'img_path', 'ori_shape', 'img_shape', 'input_size',
                        'input_center', 'input_scale')),
    ]
    train_pipeline = [  # the stage-2 pipeline without its random parts
        dict(type='LoadImage'),
        dict(type='BottomupRandomAffine', input_size=input_size, shift_prob=0, rotate_prob=0,
             scale_prob=0, scale_type='long', pad_val=(114, 114, 114), bbox_keep_corner=False,
             clip_border=True),
        dict(type='BottomupGetHeatmapMask', get_invalid=True),
        dict(type='FilterAnnotations', by_kpt=True, by_box=True, keep_empty=False),
        dict(type='GenerateTarget',
             encoder=dict(type='YOLOXPoseAnnotationProcessor', input_size=input_size)),
        dict(type='PackPoseInputs'),
    ]

    def dataset(pipeline, test_mode):
        return DATASETS.build(dict(
            type='CocoDataset', data_root=str(root), data_mode='bottomup', ann_file=ann_file,
            data_prefix=dict(img=img_prefix), test_mode=test_mode, pipeline=pipeline))

    test_set = dataset(test_pipeline, True)
    tests = [pseudo_collate([test_set[i]]) for i in range(min(num_images, len(test_set)))]
    train_set = dataset(train_pipeline, False)
    samples = [train_set[i] for i in range(len(train_set))]
    busiest = max(samples, key=lambda s: len(s['data_samples'].gt_instance_labels))
    return tests, pseudo_collate([busiest])


# rows ----------------------------------------------------------------------------

def predict_rows(plugin, ref, tests, repeats: int, warmup: int) -> List[Row]:
    for model in (plugin, ref):
        model.eval()

    def run(model, batch):
        with torch.no_grad():
            return model.test_step(copy.deepcopy(batch))

    # largest difference of every output over all images
    diff, count = 0.0, 0
    for batch in tests:
        a, b = run(plugin, batch)[0].pred_instances, run(ref, batch)[0].pred_instances
        if len(a) != len(b):
            raise AssertionError(f'plugin found {len(a)} people, MMPose {len(b)}')
        count += len(a)
        for key in ('bboxes', 'bbox_scores', 'keypoints', 'keypoint_scores'):
            if len(a):
                diff = max(diff, float(np.abs(a[key] - b[key]).max()))
    index = iter(range(10 ** 9))

    def cycle(model):  # the same image sequence for both sides
        return lambda: run(model, tests[next(index) // 2 % len(tests)])

    ms = time_pair(cycle(plugin), cycle(ref), repeats * len(tests), warmup)
    memory = [peak_rss_growth_mb(lambda m=m: run(m, tests[0])) for m in (plugin, ref)]
    return [
        Row('eager predict, batch 1', *ms,
            f'max abs diff {diff:.1e} over {count} people in {len(tests)} images'),
        Row('peak memory, eager predict', *memory, 'peak RSS growth of one call', unit='MB')]


def train_rows(plugin, ref, batch, repeats: int, warmup: int) -> List[Row]:
    def step(model):
        model.train()
        data = model.data_preprocessor(copy.deepcopy(batch), True)
        loss, log_vars = model.parse_losses(model(**data, mode='loss'))
        loss.backward()
        model.zero_grad(set_to_none=True)
        return float(loss.detach())

    losses = step(plugin), step(ref)
    ms = time_pair(lambda: step(plugin), lambda: step(ref), repeats, warmup)
    memory = [peak_rss_growth_mb(lambda m=m: step(m)) for m in (plugin, ref)]
    equal = abs(losses[0] - losses[1]) <= 1e-4 * abs(losses[1]) + 1e-5
    people = len(batch['data_samples'][0].gt_instance_labels)
    return [
        Row(f'training step (fwd + assignment + bwd), batch 1, {people} people', *ms,
            f'loss {losses[0]:.6f} vs {losses[1]:.6f}: {"equal" if equal else "DIFFERENT"}'),
        Row('peak memory, training step', *memory, 'peak RSS growth of one call', unit='MB')]


def train_breakdown_rows(plugin, ref, batch, repeats: int, warmup: int) -> List[Row]:
    """Where a training step's time goes: the phases timed separately.

    ``targets + losses`` is ``head.loss`` (head forward, SimOTA assignment,
    losses) minus a separate head forward.
    """
    def phases(model) -> List[float]:
        model.train()
        data = model.data_preprocessor(copy.deepcopy(batch), True)
        times, start = [], clock()

        def lap():
            nonlocal start
            now = clock()
            times.append((now - start) * 1e3)
            start = now

        feats = model.extract_feat(data['inputs'])
        lap()
        head_in = [f.detach().requires_grad_() for f in feats]
        model.head.forward(head_in)
        lap()
        loss = model.parse_losses(model.head.loss(head_in, data['data_samples']))[0]
        lap()
        loss.backward()
        lap()
        torch.autograd.backward(feats, [f.grad for f in head_in])
        lap()
        model.zero_grad(set_to_none=True)
        return [times[0], times[1], times[2] - times[1], times[3], times[4]]

    for _ in range(warmup):
        phases(plugin), phases(ref)
    samples = [([], []) for _ in range(5)]
    for _ in range(repeats):
        for side, model in enumerate((plugin, ref)):
            for phase, ms in zip(samples, phases(model)):
                phase[side].append(ms)
    names = ['backbone + neck forward', 'head forward', 'targets + losses',
             'head backward', 'backbone + neck backward']
    return [Row(f'&nbsp;&nbsp;step phase: {name}', statistics.median(a), statistics.median(b),
                'same code on both sides' if 'neck' in name else '')
            for name, (a, b) in zip(names, samples)]


def codec_rows(repeats: int, warmup: int, num_instances: int = 8) -> List[Row]:
    """Top-down codec use (RTMPose-s COCO settings) on keypoints at bin centres."""
    from mmpose.codecs import SimCCLabel

    from rtmo_plugin.codecs import BoxSimCCLabel

    settings = dict(input_size=(192, 256), sigma=(4.9, 5.66), simcc_split_ratio=2.0,
                    normalize=False)
    ours, ref = BoxSimCCLabel(**settings), SimCCLabel(**settings)
    rng = np.random.default_rng(0)
    keypoints = (rng.integers(0, 384, (num_instances, 17, 2)) / 2.0).astype(np.float32)
    visible = np.ones((num_instances, 17), np.float32)
    a, b = ours.encode(keypoints, visible), ref.encode(keypoints, visible)
    enc_diff = max(float(np.abs(a[k] - b[k]).max()) for k in ('keypoint_x_labels',
                                                              'keypoint_y_labels'))
    simcc_x = rng.standard_normal((num_instances, 17, 384)).astype(np.float32)
    simcc_y = rng.standard_normal((num_instances, 17, 512)).astype(np.float32)
    (ka, sa), (kb, sb) = ours.decode(simcc_x, simcc_y), ref.decode(simcc_x, simcc_y)
    dec_diff = max(float(np.abs(ka - kb).max()), float(np.abs(sa - sb).max()))
    return [
        Row(f'codec encode, {num_instances} people', *time_pair(
            lambda: ours.encode(keypoints, visible), lambda: ref.encode(keypoints, visible),
            repeats, warmup), f'max abs label diff {enc_diff:.1e} (BoxSimCCLabel vs SimCCLabel)'),
        Row(f'codec decode, {num_instances} people', *time_pair(
            lambda: ours.decode(simcc_x, simcc_y), lambda: ref.decode(simcc_x, simcc_y),
            repeats, warmup), f'max abs diff {dec_diff:.1e}'),
    ]


def deploy_rows(plugin, size: str, tests, mmpose_predict_ms: float, repeats: int,
                threads: int) -> List[Row]:
    """Rows of the deployment paths (ONNX fp32, fused, bf16, int8), end to end.

    Same weights (saved from ``plugin``) and the same image files; each path's
    speed-up is against MMPose's eager predict measured above.
    """
    from rtmo_plugin.deploy.bench import deploy_rows as timed_paths

    images = [b['data_samples'][0].img_path for b in tests]
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = Path(tmp) / 'weights.pth'
        torch.save(dict(state_dict=plugin.state_dict()), checkpoint)
        paths = timed_paths(REPO / CONFIGS[size][0], checkpoint, images, repeats=repeats,
                            threads=threads)
    return [Row(f'deploy: {p["path"]} (end to end)', p['median_ms'], mmpose_predict_ms,
                'vs MMPose eager predict') for p in paths]


def conv_gflop(model: torch.nn.Module, side: int) -> float:
    """Forward convolution work of ``model`` on one ``side x side`` image, in GFLOP
    (2 x multiply-adds)."""
    work = []

    def count(conv, inputs, output):
        work.append(2 * output.numel() * conv.weight[0].numel())

    hooks = [m.register_forward_hook(count) for m in model.modules()
             if isinstance(m, torch.nn.Conv2d)]
    try:
        with torch.no_grad():
            model.head(model.extract_feat(torch.zeros(1, 3, side, side)))
    finally:
        for hook in hooks:
            hook.remove()
    return sum(work) / 1e9


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """fp32 matmul throughput (``n x n`` by ``n x n``) at torch's threads, per second of
    the benchmark's clock (``--clock cpu``: per CPU second, comparable with the other rows)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    start = clock()
    for _ in range(repeats):
        a @ b
    return 2 * n ** 3 * repeats / (clock() - start) / 1e9


def floor_rows(plugin, side: int, mmpose_predict_ms: float) -> List[Row]:
    """What the convolutions cost at best: their work over the machine's matmul speed."""
    from rtmo_plugin.deploy.fuse import fuse_for_deploy

    work = conv_gflop(fuse_for_deploy(plugin), side)
    speed = matmul_gflops()
    return [
        Row('fp32 floor: convolution work of the deploy model, 1 image', work, None,
            'forward convs, 2 x multiply-adds', unit='GFLOP'),
        Row('fp32 floor: fp32 matmul throughput (2048^3)', speed, None,
            'torch, same threads', unit='GFLOP/s'),
        Row('fp32 floor: the convolutions at matmul speed', 1e3 * work / speed,
            mmpose_predict_ms, 'vs MMPose eager predict: the fp32 limit (convs alone)')]


# report ------------------------------------------------------------------------

def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, AttributeError):
        cpu = re.search(r'^model name\s*:\s*(.+)$', Path('/proc/cpuinfo').read_text(),
                        re.M).group(1)
    versions = [f'torch {torch.__version__}']
    for name in ('onnxruntime', 'mmpose', 'mmcv'):
        try:
            versions.append(f'{name} {__import__(name).__version__}')
        except ImportError:
            versions.append(f'{name} not installed')
    try:
        load = ', '.join(Path('/proc/loadavg').read_text().split()[:3])
    except OSError:
        load = 'n/a'
    return (f'{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; {cpu}, '
            f'{torch.get_num_threads()} torch threads of {torch.get_num_interop_threads()} '
            f'interop; load average (1, 5, 15 min) at the end {load}; Python '
            f'{platform.python_version()}; {", ".join(versions)}')


def markdown(rows: Sequence[Row], title: str) -> str:
    def fmt(value: Optional[float]) -> str:
        return '' if value is None else f'{value:.1f}' if value < 1e4 else f'{value:.0f}'

    lines = [title, '', '| what | unit | plugin | MMPose 1.3 | speed-up (MMPose / plugin) '
             '| check |', '|---|---|---|---|---|---|']
    for row in rows:
        speedup = '' if row.speedup is None else f'{row.speedup:.2f}x'
        lines.append(f'| {row.what} | {row.unit} | {fmt(row.plugin)} | {fmt(row.mmpose)} '
                     f'| {speedup} | {row.check} |')
    return '\n'.join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--model', choices=sorted(CONFIGS), default='s', help='RTMO size')
    parser.add_argument('--input-size', type=int, default=None,
                        help="square input side (default: the config's, 640 for s/m/l)")
    parser.add_argument('--data', type=Path, default=DEFAULT_DATA,
                        help='COCO-keypoints folder with person_keypoints.json and its images '
                             '(default ../shared/data/coco-mini; synthetic images if absent)')
    parser.add_argument('--images', type=int, default=4, help='images for eager predict')
    parser.add_argument('--threads', type=int, default=2, help='torch threads, both sides')
    parser.add_argument('--repeats', type=int, default=10, help='timed calls per row and side')
    parser.add_argument('--warmup', type=int, default=2, help='untimed calls first')
    parser.add_argument('--rows', default=','.join(ROWS),
                        help='comma-separated subset of predict,train,breakdown (the '
                             "training step's phases),codec,deploy,floor (the fp32 limit)")
    parser.add_argument('--score-thr', type=float, default=0.0,
                        help='test score threshold; random weights score ~0.01 everywhere')
    parser.add_argument('--nms-pre', type=int, default=100,
                        help='candidates kept before NMS (top scores); they go through the DCC')
    parser.add_argument('--clock', choices=sorted(CLOCKS), default='wall',
                        help="wall time, or this process's CPU time (less sensitive to other "
                             'processes on a shared machine)')
    parser.add_argument('--out', type=Path, default=None, help='also write the table here')
    args = parser.parse_args(argv)
    unknown = set(args.rows.split(',')) - set(ROWS)
    if unknown:
        parser.error(f'--rows: unknown {sorted(unknown)}; choose from {",".join(ROWS)}')
    if min(args.repeats, args.images, args.threads) < 1 or args.warmup < 0:
        parser.error('--repeats, --images and --threads must be >= 1, --warmup >= 0')
    return args


def main(argv=None) -> List[Row]:
    global clock
    args = parse_args(argv)
    clock = CLOCKS[args.clock]
    torch.set_num_threads(args.threads)
    wanted = set(args.rows.split(','))
    rows: List[Row] = []
    test_cfg = dict(score_thr=args.score_thr, nms_pre=args.nms_pre)
    plugin, ref = build_models(args.model, test_cfg)
    side = args.input_size or {'t': 416}.get(args.model, 640)
    with tempfile.TemporaryDirectory() as tmp:
        data = ensure_data(args.data, Path(tmp))
        tests, train_batch = batches(data, (side, side), args.images)
        if wanted & {'predict', 'deploy', 'floor'}:
            rows += predict_rows(plugin, ref, tests, args.repeats, args.warmup)
        if 'train' in wanted:
            rows += train_rows(plugin, ref, train_batch, args.repeats, args.warmup)
        if 'breakdown' in wanted:
            rows += train_breakdown_rows(plugin, ref, train_batch, args.repeats, args.warmup)
        if 'codec' in wanted:
            rows += codec_rows(args.repeats, args.warmup)
        if 'deploy' in wanted:
            rows += deploy_rows(plugin, args.model, tests, rows[0].mmpose, args.repeats,
                                args.threads)
        if 'floor' in wanted:
            rows += floor_rows(plugin, side, rows[0].mmpose)
    title = (f'RTMO-{args.model} at {side}x{side}, batch 1, {args.threads} threads, median '
             f'{args.clock} time of {args.repeats} calls per side after {args.warmup} warm-up; '
             f'random weights (seed 0), test_cfg {test_cfg}\n\nMachine: {machine()}')
    table = markdown(rows, title)
    print(table)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table + '\n')
        print(f'wrote {args.out}')
    return rows


if __name__ == '__main__':
    main()
