"""This CPU's arithmetic limits per precision (fp32, bf16, int8): the benchmark's floor rows.

A floor must be a limit that no inference path beats, so each precision's peak is the
larger of two numbers:

- **measured**: the best of several GEMM kernels on large square matrices at the benchmark's
  threads and clock (torch's ``mm`` in fp32 and bf16, ``torch._int_mm`` for int8,
  onnxruntime's ``MatMul`` and ``MatMulInteger``); a GEMM is the most efficient use of the
  multiply units that these runtimes have, and convolutions run on the same kernels;
- **computed**: cores x clock x operations per cycle and core that the CPU's flags allow
  (:data:`OPS_PER_CYCLE`; two vector FMA pipes per core, as on Zen 5 and Intel's server
  cores). The clock is the higher of what ``/proc/cpuinfo`` reports (under a hypervisor the
  nominal clock, below the boost clock) and what the fastest measured GEMM proves: a GEMM
  at R GOP/s on c cores of u operations per cycle runs at >= R / (c u) GHz.

A path's floor is then its convolution work over its precision's peak
(:func:`floor_ms`); :func:`floor_violations` names any measured path that is faster than
its floor (the peak was underestimated, e.g. on a machine busy during the GEMMs).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from .report import Clock

# (flag, operations per cycle and core): the first flag the CPU has sets its precision's
# peak; one multiply-add counts as 2 operations
OPS_PER_CYCLE: Dict[str, Tuple[Tuple[str, int], ...]] = {
    # 2 FMA pipes x lanes x 2: AVX-512 16 fp32 lanes, AVX2 8, SSE 4
    'fp32': (('avx512f', 64), ('avx2', 32), ('sse2', 16)),
    # AMX: 1,024 bf16 multiply-adds per cycle; AVX512-BF16 (vdpbf16ps): 2 pipes x 32 x 2
    'bf16': (('amx_bf16', 2048), ('avx512_bf16', 128)),
    # AMX: 2,048 int8 multiply-adds per cycle; VNNI (vpdpbusd): 2 pipes x 64 (AVX-512) or
    # 32 (AVX) multiply-adds x 2
    'int8': (('amx_int8', 4096), ('avx512_vnni', 256), ('avx_vnni', 128)),
}
PRECISIONS = tuple(OPS_PER_CYCLE)


@dataclass
class Peak:
    """One precision's peak in GFLOP/s (GOP/s for int8) and how it was obtained."""

    precision: str
    gflops: float
    how: str


def cpu_info(path: str = '/proc/cpuinfo') -> Tuple[set, Optional[float]]:
    """``(flags, MHz)``: :func:`rtmo_plugin.engine.amp.cpuinfo_flags` and the first processor's
    ``cpu MHz`` (empty / None where unreadable)."""
    from ..engine.amp import cpuinfo_flags

    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return set(), None
    mhz = next((float(value) for key, _, value in (line.partition(':') for line in lines)
                if key.strip() == 'cpu MHz'), None)
    return cpuinfo_flags(path), mhz


def ops_per_cycle(precision: str, flags: set) -> Optional[Tuple[str, int]]:
    """``(flag, operations per cycle and core)`` of the best ``precision`` unit in ``flags``."""
    return next(((flag, ops) for flag, ops in OPS_PER_CYCLE[precision] if flag in flags), None)


def computed_peak(precision: str, cores: int, flags: set, ghz: float,
                  clock_how: str = '') -> Optional[Peak]:
    """cores x clock x :data:`OPS_PER_CYCLE` of the best flag present; None without one."""
    unit = ops_per_cycle(precision, flags)
    if unit is None:
        return None
    flag, ops = unit
    gflops = cores * ghz * ops
    return Peak(precision, gflops, f'computed {cores} cores x {ghz:.2f} GHz{clock_how} x '
                                   f'{ops} ops/cycle ({flag}) = {gflops:.0f}')


def least_clock_ghz(measured: Sequence[Peak], cores: int, flags: set,
                    mhz: Optional[float]) -> Tuple[Optional[float], str]:
    """The lowest clock that the measured GEMMs prove (a GEMM cannot beat its unit's
    operations per cycle), or the reported one if higher: ``(GHz, how)``."""
    best, how = (mhz / 1e3, ' (/proc/cpuinfo)') if mhz else (None, '')
    for peak in measured:
        unit = ops_per_cycle(peak.precision, flags)
        if unit is not None and (best is None or peak.gflops / (cores * unit[1]) > best):
            best = peak.gflops / (cores * unit[1])
            how = f' (at least: the {peak.precision} GEMM)'
    return best, how


def _best_rate(fn: Callable[[], object], ops: float, repeats: int, clock: Clock) -> float:
    """Best GFLOP/s of ``repeats`` calls after one warm-up call."""
    fn()
    best = float('inf')
    for _ in range(repeats):
        start = clock()
        fn()
        best = min(best, clock() - start)
    return ops / max(best, 1e-9) / 1e9


def _ort_gemm(op: str, n: int, threads: int) -> Callable[[], object]:
    """One onnxruntime ``MatMul`` (fp32) or ``MatMulInteger`` (uint8 x int8) of two n x n."""
    import onnxruntime
    from onnx import TensorProto, helper

    fp32 = op == 'MatMul'
    a_type, b_type = (TensorProto.FLOAT,) * 2 if fp32 else (TensorProto.UINT8, TensorProto.INT8)
    graph = helper.make_graph(
        [helper.make_node(op, ['A', 'B'], ['C'])], 'gemm',
        [helper.make_tensor_value_info('A', a_type, [n, n]),
         helper.make_tensor_value_info('B', b_type, [n, n])],
        [helper.make_tensor_value_info('C', TensorProto.FLOAT if fp32 else TensorProto.INT32,
                                       [n, n])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
    model.ir_version = 8
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(model.SerializeToString(), options,
                                           providers=['CPUExecutionProvider'])
    rng = np.random.default_rng(0)
    if fp32:
        feed = {'A': rng.standard_normal((n, n), np.float32),
                'B': rng.standard_normal((n, n), np.float32)}
    else:
        feed = {'A': rng.integers(0, 256, (n, n), dtype=np.uint8),
                'B': rng.integers(-128, 128, (n, n), dtype=np.int8)}
    return lambda: session.run(None, feed)


def _kernels(precision: str, n: int, threads: int) -> Dict[str, Callable[[], object]]:
    """The GEMMs timed for ``precision`` at size ``n`` (name -> call)."""
    if precision == 'int8':
        a = torch.randint(-128, 128, (n, n), dtype=torch.int8)
        b = torch.randint(-128, 128, (n, n), dtype=torch.int8)
        kernels = {f'torch _int_mm {n}^3': lambda: torch._int_mm(a, b),
                   f'onnxruntime MatMulInteger {n}^3': _ort_gemm('MatMulInteger', n, threads)}
    else:
        dtype = torch.float32 if precision == 'fp32' else torch.bfloat16
        a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
        kernels = {f'torch {precision} mm {n}^3': lambda: torch.mm(a, b)}
        if precision == 'fp32':
            kernels[f'onnxruntime MatMul {n}^3'] = _ort_gemm('MatMul', n, threads)
    return kernels


def measured_peak(precision: str, sizes: Sequence[int] = (1024, 2048), repeats: int = 3,
                  clock: Clock = time.perf_counter) -> Optional[Peak]:
    """The best GEMM of :func:`_kernels` over ``sizes`` at torch's threads; None where no
    kernel runs here (e.g. ``torch._int_mm`` missing and no onnxruntime)."""
    threads, best = torch.get_num_threads(), None
    for n in sizes:
        try:
            kernels = _kernels(precision, n, threads)
        except (ImportError, RuntimeError):
            continue
        for name, fn in kernels.items():
            try:
                rate = _best_rate(fn, 2.0 * n ** 3, repeats, clock)
            except (RuntimeError, NotImplementedError):  # a kernel this build lacks
                continue
            if best is None or rate > best.gflops:
                best = Peak(precision, rate, f'best GEMM {name} = {rate:.0f}')
    return best


def peaks(precisions: Sequence[str], cores: int, sizes: Sequence[int] = (1024, 2048),
          clock: Clock = time.perf_counter,
          cpuinfo: str = '/proc/cpuinfo') -> List[Peak]:
    """Each precision's peak: the larger of :func:`measured_peak` and :func:`computed_peak`,
    its ``how`` naming both. The computed peaks use the higher of the clock that
    ``/proc/cpuinfo`` reports and the clock that the fastest measured GEMM proves
    (:func:`least_clock_ghz`; boost clocks are not reported under a hypervisor).
    ``cores``: the cores the timed paths use (1 for per-CPU-second clocks)."""
    flags, mhz = cpu_info(cpuinfo)
    measured = {p: measured_peak(p, sizes, clock=clock) for p in precisions}
    ghz, clock_how = least_clock_ghz([m for m in measured.values() if m], cores, flags, mhz)
    result = []
    for precision in precisions:
        computed = None if ghz is None else computed_peak(precision, cores, flags, ghz,
                                                          clock_how)
        found = [p for p in (measured[precision], computed) if p is not None]
        if found:
            best = max(found, key=lambda p: p.gflops)
            result.append(Peak(precision, best.gflops, '; '.join(p.how for p in found)))
    return result


def precision_of(path: str) -> str:
    """The arithmetic a deploy path's convolutions run in, read from its name."""
    return next((p for p in ('int8', 'bf16') if p in path), 'fp32')


def floor_ms(work_gflop: float, peak: Peak) -> float:
    """ms that ``work_gflop`` takes at ``peak``: no path of that precision can be faster."""
    return 1e3 * work_gflop / peak.gflops


def floor_violations(timed: Dict[str, float], floors: Dict[str, float]) -> List[str]:
    """Paths (name -> ms) faster than their precision's floor (precision -> ms): each a
    sentence; empty when every floor holds. A precision without a floor falls back to the
    lowest floor given (a cheaper arithmetic bounds it from below)."""
    if not floors:
        return []
    lowest = min(floors.values())
    return [f'{path} took {ms:.1f} ms, below its {precision_of(path)} floor '
            f'{floors.get(precision_of(path), lowest):.1f} ms: the peak is underestimated'
            for path, ms in timed.items() if ms < floors.get(precision_of(path), lowest)]
