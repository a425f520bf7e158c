"""What every measurement of the harness reports with: timing in turns, Markdown tables and
the line that says which machine the numbers come from.

- :func:`time_in_turns` (with :data:`CLOCKS` and :func:`device_clock`): median ms of several
  functions called in turns;
- :func:`markdown_table`: rows (dicts) as a Markdown table;
- :func:`machine_line` (CPU model, cores, flags) and :func:`machine` (the benchmark's caption:
  date, that line, threads, GPU, load, versions).
"""
from __future__ import annotations

import datetime
import os
import platform
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Dict, List, Mapping, Optional, Sequence, Union

if TYPE_CHECKING:
    import torch

Clock = Callable[[], float]
CLOCKS: Dict[str, Clock] = {'wall': time.perf_counter, 'cpu': time.process_time}
# CPU flags that decide which kernels torch and onnxruntime can use
CPU_FLAGS = ('avx2', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'avx_vnni', 'amx_bf16', 'amx_int8')


def time_in_turns(fns: Dict[str, Callable[[], object]], repeats: int, warmup: int = 2,
                  clock: Clock = time.perf_counter) -> Dict[str, float]:
    """Median ms of each function, called in turns (one call of each, then the next round)
    after ``warmup`` calls each, so that load from other processes spreads over all."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    samples: Dict[str, List[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = clock()
            fn()
            samples[name].append((clock() - start) * 1e3)
    return {name: statistics.median(values) for name, values in samples.items()}


def device_clock(clock: Clock, device: Union[str, torch.device] = 'cpu') -> Clock:
    """``clock``, read on a CUDA device only after its queued work is done (CUDA kernels run
    asynchronously: without the wait a timing would end before the work it times)."""
    import torch

    device = torch.device(device)
    if device.type != 'cuda':
        return clock

    def synced() -> float:
        torch.cuda.synchronize(device)
        return clock()

    return synced


def _cell(value, digits: int) -> str:
    if isinstance(value, float):
        return f'{value:.{digits}f}'
    return '' if value is None else str(value)


def markdown_table(rows: Sequence[Mapping], columns: Optional[Sequence[str]] = None,
                   digits: int = 3) -> str:
    """A Markdown table of ``rows`` (dicts), one column per key (first seen, first shown);
    floats with ``digits`` decimals, ``None`` as an empty cell."""
    if not rows:
        raise ValueError('markdown_table: no rows to write')
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = ['| ' + ' | '.join(columns) + ' |', '|' + '---|' * len(columns)]
    lines += ['| ' + ' | '.join(_cell(row.get(c), digits) for c in columns) + ' |'
              for row in rows]
    return '\n'.join(lines) + '\n'


def usable_cores() -> int:
    """Cores this process may run on (respects taskset and container CPU sets)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count() or 1


def machine_line() -> str:
    """``'<CPU model>, N cores, flags: avx2 ...'`` of this machine (Linux; else the platform)."""
    model, flags = platform.processor() or platform.machine(), set()
    cpuinfo = Path('/proc/cpuinfo')
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(':')
            if key.strip() == 'model name':
                model = value.strip()
            elif key.strip() == 'flags':
                flags = set(value.split())
                break
    present = [f for f in CPU_FLAGS if f in flags] or ['none of ' + ' '.join(CPU_FLAGS)]
    return f'{model}, {usable_cores()} cores, flags: {" ".join(present)}'


def machine(device: Union[str, torch.device] = 'cpu') -> str:
    """Date, :func:`machine_line`, torch threads, the GPU on a CUDA device, load and versions:
    the caption of a timing table."""
    import torch

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
    device = torch.device(device)
    gpu = (f'GPU {torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda}); '
           if device.type == 'cuda' else '')
    return (f'{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; '
            f'{machine_line()}, {torch.get_num_threads()} torch threads of '
            f'{torch.get_num_interop_threads()} interop; {gpu}load average (1, 5, 15 min) at '
            f'the end {load}; Python {platform.python_version()}; {", ".join(versions)}')
