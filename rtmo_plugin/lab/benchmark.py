"""The rows of ``tools/benchmark.py``: the plugin's RTMO against MMPose 1.3's, side by side.

Every row times both sides on the same inputs, in turns (one plugin call, one MMPose call,
...) so that load from other processes spreads over both, and reports the medians and the
speed-up ``MMPose ms / plugin ms`` (> 1: the plugin is faster). See ``tools/benchmark.py``
for the rows and docs/benchmarks.md for measured tables.
"""
from __future__ import annotations

import copy
import ctypes
import re
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

# tools/benchmark.py reads CLOCKS, device_clock and machine as benchmark.*
from .report import (  # noqa: F401
    CLOCKS,
    Clock,
    device_clock,
    machine,
    markdown_table,
    time_in_turns,
    usable_cores,
)


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


def time_pair(plugin_fn: Callable[[], object], mmpose_fn: Callable[[], object], repeats: int,
              warmup: int, clock: Clock = time.perf_counter) -> Tuple[float, float]:
    """:func:`time_in_turns` of the two sides: ``(plugin ms, MMPose ms)``."""
    ms = time_in_turns(dict(plugin=plugin_fn, mmpose=mmpose_fn), repeats, warmup, clock)
    return ms['plugin'], ms['mmpose']


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


def peak_memory_mb(fn: Callable[[], object],
                   device: Union[str, torch.device] = 'cpu') -> Optional[float]:
    """Peak memory added by one call of ``fn``, in MB: the process's resident set on a CPU
    (:func:`peak_rss_growth_mb`), the CUDA memory torch allocates on a GPU."""
    device = torch.device(device)
    if device.type != 'cuda':
        return peak_rss_growth_mb(fn)
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    fn()
    torch.cuda.synchronize(device)
    return (torch.cuda.max_memory_allocated(device) - before) / 2 ** 20


def _memory_check(device: Union[str, torch.device]) -> str:
    kind = 'allocated CUDA memory' if torch.device(device).type == 'cuda' else 'peak RSS'
    return f'{kind} growth of one call'


def predict_rows(plugin, ref, tests, repeats: int, warmup: int,
                 clock: Clock = time.perf_counter,
                 device: Union[str, torch.device] = 'cpu') -> List[Row]:
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

    ms = time_pair(cycle(plugin), cycle(ref), repeats * len(tests), warmup, clock)
    memory = [peak_memory_mb(lambda m=m: run(m, tests[0]), device) for m in (plugin, ref)]
    return [
        Row('eager predict, batch 1', *ms,
            f'max abs diff {diff:.1e} over {count} people in {len(tests)} images'),
        Row('peak memory, eager predict', *memory, _memory_check(device), unit='MB')]


def train_step(model, batch, bf16: bool = False) -> float:
    """Forward, assignment, losses and backward of one batch (no optimiser step); with
    ``bf16`` under bf16 autocast on the model's device, as ``FiniteBf16OptimWrapper`` runs it.
    Returns the loss."""
    model.train()
    device_type = next(model.parameters()).device.type
    with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
        data = model.data_preprocessor(copy.deepcopy(batch), True)
        loss, log_vars = model.parse_losses(model(**data, mode='loss'))
    loss.backward()
    model.zero_grad(set_to_none=True)
    return float(loss.detach())


def hook_types(config) -> set:
    """The ``type`` of every hook in ``config``'s (a path or Config) ``default_hooks`` and
    ``custom_hooks``, but those set to ``None`` or ``enabled=False``."""
    from ..build import load_config

    cfg = load_config(config) if isinstance(config, (str, Path)) else config
    hooks = list((cfg.get('default_hooks') or {}).values()) + list(cfg.get('custom_hooks') or [])
    return {h.get('type') for h in hooks if h and h.get('enabled', True)}


def as_trained(model: torch.nn.Module, config) -> torch.nn.Module:
    """``model`` as its ``config``'s hooks change it before training: a copy with
    channels-last weights (``ChannelsLastHook``) and one-kernel Swish backwards
    (``FusedSwishHook``) where the config has them, else ``model`` itself."""
    from ..engine.swish import fuse_swish_grads

    types = hook_types(config)
    if not types & {'ChannelsLastHook', 'FusedSwishHook'}:
        return model
    model = copy.deepcopy(model)
    if 'ChannelsLastHook' in types:
        model.to(memory_format=torch.channels_last)
    if 'FusedSwishHook' in types:
        fuse_swish_grads(model)
    return model


def train_rows(plugin, ref, batch, repeats: int, warmup: int,
               clock: Clock = time.perf_counter,
               device: Union[str, torch.device] = 'cpu',
               trained: Optional[torch.nn.Module] = None) -> List[Row]:
    """The training step of ``trained`` (the plugin as its config trains it, e.g.
    :func:`as_trained`; default ``plugin``) against MMPose's. The check compares ``plugin``'s
    loss with MMPose's, and says how far ``trained``'s is from it: channels-last convolutions
    sum in another order (float rounding)."""
    trained = plugin if trained is None else trained

    def step(model):
        return train_step(model, batch)

    losses = step(plugin), step(ref)
    ms = time_pair(lambda: step(trained), lambda: step(ref), repeats, warmup, clock)
    memory = [peak_memory_mb(lambda m=m: step(m), device) for m in (trained, ref)]
    equal = abs(losses[0] - losses[1]) <= 1e-4 * abs(losses[1]) + 1e-5
    check = f'loss {losses[0]:.6f} vs {losses[1]:.6f}: {"equal" if equal else "DIFFERENT"}'
    if trained is not plugin:
        loss = step(trained)
        check = (f'as the config trains (loss {loss:.6f}, '
                 f'{abs(loss - losses[0]) / abs(losses[0]):.3%} off); as built: {check}')
    people = len(batch['data_samples'][0].gt_instance_labels)
    return [
        Row(f'training step (fwd + assignment + bwd), batch 1, {people} people', *ms, check),
        Row('peak memory, training step', *memory, _memory_check(device), unit='MB')]


def train_bf16_rows(plugin, ref, batch, repeats: int, warmup: int,
                    clock: Clock = time.perf_counter,
                    device: Union[str, torch.device] = 'cpu') -> List[Row]:
    """The plugin's training step under bf16 autocast (``tools/train.py --amp`` on a CPU)
    against MMPose's in fp32; the check column compares the plugin's bf16 and fp32 losses."""
    from ..engine.amp import bf16_autocast_supported

    device_type = torch.device(device).type
    loss_fp32, loss_bf16 = train_step(plugin, batch), train_step(plugin, batch, bf16=True)
    ms = time_pair(lambda: train_step(plugin, batch, bf16=True), lambda: train_step(ref, batch),
                   repeats, warmup, clock)
    people = len(batch['data_samples'][0].gt_instance_labels)
    hardware = '' if bf16_autocast_supported(device_type) else \
        f'; this {device_type} has no bf16 hardware: emulated, slower than fp32'
    return [Row(f'training step, plugin under bf16 autocast vs MMPose fp32, batch 1, {people} '
                'people', *ms, f'loss {loss_bf16:.4f} vs {loss_fp32:.4f} in fp32 '
                f'({abs(loss_bf16 - loss_fp32) / abs(loss_fp32):.1%}){hardware}')]


def train_breakdown_rows(plugin, ref, batch, repeats: int, warmup: int,
                         clock: Clock = time.perf_counter) -> List[Row]:
    """Where a training step's time goes: the phases timed separately.

    ``targets + losses`` is the part of ``head.loss`` after its own head forward (SimOTA
    assignment, losses): timed from the end of that forward, so it is never negative.
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
        forward, ends = model.head.forward, []

        def timed_forward(*args, **kwargs):
            out = forward(*args, **kwargs)
            ends.append(clock())
            return out

        model.head.forward = timed_forward  # an instance attribute over the method
        try:
            loss = model.parse_losses(model.head.loss(head_in, data['data_samples']))[0]
        finally:
            del model.head.forward
        start = ends[-1]
        lap()
        loss.backward()
        lap()
        torch.autograd.backward(feats, [f.grad for f in head_in])
        lap()
        model.zero_grad(set_to_none=True)
        return times

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
                "MMPose's layers on both sides" if 'neck' in name else '')
            for name, (a, b) in zip(names, samples)]


def codec_rows(repeats: int, warmup: int, num_instances: int = 8,
               clock: Clock = time.perf_counter) -> List[Row]:
    """Top-down codec use (RTMPose-s COCO settings) on keypoints at bin centres."""
    from mmpose.codecs import SimCCLabel

    from ..codecs import BoxSimCCLabel

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
            repeats, warmup, clock),
            f'max abs label diff {enc_diff:.1e} (BoxSimCCLabel vs SimCCLabel)'),
        Row(f'codec decode, {num_instances} people', *time_pair(
            lambda: ours.decode(simcc_x, simcc_y), lambda: ref.decode(simcc_x, simcc_y),
            repeats, warmup, clock), f'max abs diff {dec_diff:.1e}'),
    ]


def deploy_rows(plugin, tests, mmpose_predict_ms: float, repeats: int,
                threads: int) -> List[Row]:
    """Rows of the deployment paths (ONNX fp32, fused, bf16, int8) of ``plugin`` itself (its
    weights and ``test_cfg``), end to end on the same image files; each path's speed-up is
    against MMPose's eager predict measured above."""
    from .deploy_bench import latency_rows, load_images

    images = load_images([b['data_samples'][0].img_path for b in tests])
    paths = latency_rows(plugin.eval(), images, repeats=repeats, threads=threads)
    return [Row(f'deploy: {p["path"]} (end to end)', p['median_ms'], mmpose_predict_ms,
                'vs MMPose eager predict') for p in paths]


def cuda_deploy_rows(plugin, tests, mmpose_predict_ms: float, repeats: int) -> List[Row]:
    """The deployment paths on the plugin model's CUDA device, end to end: the eager predict
    (``deploy.backends.EagerEstimator``) and the exported graph on onnxruntime's CUDA
    execution provider (a row says why not where onnxruntime has none, e.g. the CPU wheel
    instead of ``onnxruntime-gpu``). Speed-ups are against MMPose's eager predict on the
    same device."""
    import onnxruntime

    from rtmo_ort import RTMO

    from ..deploy.backends import EagerEstimator
    from ..deploy.export import export_onnx
    from .deploy_bench import load_images, time_paths

    device = next(plugin.parameters()).device
    images = load_images([b['data_samples'][0].img_path for b in tests])
    paths, notes = {'eager': EagerEstimator(plugin)}, []
    available = onnxruntime.get_available_providers()
    with tempfile.TemporaryDirectory() as tmp:
        if 'CUDAExecutionProvider' in available:
            graph = export_onnx(copy.deepcopy(plugin).cpu(), Path(tmp) / 'rtmo_fp32.onnx')
            session = RTMO(graph, score_thr=0.0, providers=('CUDAExecutionProvider',))
            if 'CUDAExecutionProvider' in session.session.get_providers():
                paths['ort_cuda_fp32'] = session
            else:  # onnxruntime falls back to the CPU when the CUDA libraries do not load
                notes.append('onnxruntime could not start its CUDAExecutionProvider '
                             f'(session providers {session.session.get_providers()})')
        else:
            notes.append(f'onnxruntime {onnxruntime.__version__} has no CUDAExecutionProvider '
                         f'(available: {", ".join(available)}); install onnxruntime-gpu')
        timed = time_paths(paths, images, repeats)
    rows = [Row(f'deploy on {device}: {p["path"]} (end to end)', p['median_ms'],
                mmpose_predict_ms, f'vs MMPose eager predict on {device}') for p in timed]
    return rows + [Row(f'deploy on {device}: ort_cuda_fp32', None, None, f'not timed: {note}')
                   for note in notes]


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


def floor_rows(plugin, side: int, mmpose_predict_ms: float,
               clock: Clock = time.perf_counter, timed: Sequence[Row] = ()) -> List[Row]:
    """What the convolutions cost at best: their work over this CPU's peak in each precision
    (fp32, bf16 where the CPU has it in hardware, int8; :mod:`.peak` says how each peak is
    obtained). ``timed``: rows measured before (eager predict, ``deploy:``); a row at the end
    names any that beat their precision's floor, and a warning is printed."""
    import warnings

    from ..deploy.fuse import fuse_for_deploy
    from ..engine.amp import cpu_has_bf16
    from .peak import floor_ms, floor_violations, peaks

    work = conv_gflop(fuse_for_deploy(plugin), side)
    # per CPU second (--clock cpu) one core's peak; else the cores the timed paths use
    cores = 1 if clock is time.process_time else min(torch.get_num_threads(), usable_cores())
    precisions = [p for p in ('fp32', 'bf16', 'int8') if p != 'bf16' or cpu_has_bf16()]
    rows = [Row('floor: convolution work of the deploy model, 1 image', work, None,
                'forward convs, 2 x multiply-adds', unit='GFLOP')]
    floors = {}
    for peak in peaks(precisions, cores, clock=clock):
        floors[peak.precision] = floor_ms(work, peak)
        unit = 'GOP/s' if peak.precision == 'int8' else 'GFLOP/s'
        rows += [Row(f'floor: {peak.precision} peak, {cores} cores', peak.gflops, None,
                     f'the larger of: {peak.how}', unit=unit),
                 Row(f'floor: {peak.precision}, the convolutions at that peak',
                     floors[peak.precision], mmpose_predict_ms,
                     f'vs MMPose eager predict: no {peak.precision} path can be faster')]
    paths = {}
    for row in timed:
        if row.unit != 'ms':
            continue
        if row.what.startswith('deploy: '):
            paths[row.what[len('deploy: '):].split(' (')[0]] = row.plugin
        elif row.what.startswith('eager predict'):
            paths.update({'plugin eager predict': row.plugin, 'MMPose eager predict': row.mmpose})
    broken = floor_violations(paths, floors)
    for sentence in broken:
        warnings.warn(f'floor rows: {sentence}', stacklevel=2)
    return rows + [Row('floor check', None, None, '; '.join(broken) if broken else
                       f'all {len(paths)} timed paths are slower than their floor', unit='')]


def markdown(rows: Sequence[Row], title: str) -> str:
    """The rows as a Markdown table under ``title``."""
    def fmt(value: Optional[float]) -> str:
        return '' if value is None else f'{value:.1f}' if value < 1e4 else f'{value:.0f}'

    table = markdown_table([{
        'what': row.what, 'unit': row.unit, 'plugin': fmt(row.plugin),
        'MMPose 1.3': fmt(row.mmpose),
        'speed-up (MMPose / plugin)': '' if row.speedup is None else f'{row.speedup:.2f}x',
        'check': row.check} for row in rows])
    return f'{title}\n\n{table}'.rstrip()
