"""Mixed precision that also trains on a CPU: bf16 autocast where the hardware has bf16.

mmengine's ``AmpOptimWrapper`` refuses a CPU (``AmpOptimizerWrapper is only available
training on gpu, npu, mlu or musa``), yet CPUs with AVX512-BF16 or AMX run bf16
convolutions and matmuls at about twice their fp32 speed. The wrappers here enter
``torch.autocast(<the model's device type>, dtype=torch.bfloat16)`` around the forward pass
and the losses (``RTMOPoseHead`` computes its decoding and losses in fp32 inside it); bf16
has fp32's exponent range, so no loss scaling (no ``GradScaler``) is needed, and the
weights, gradients and optimiser state stay fp32.

Where the model's device has no bf16 hardware (a CPU without AVX512-BF16 or AMX, a CUDA
device before Ampere) they log once that the run trains in fp32, and train in fp32: bf16
emulated in software is slower than fp32.

- :class:`FiniteBf16OptimWrapper`: :class:`~rtmo_plugin.engine.finite.FiniteOptimWrapper`
  (the non-finite guard: a step with a NaN/inf loss or gradient is skipped and counted)
  under bf16 autocast.
- :class:`Bf16OptimWrapper`: mmengine's plain ``OptimWrapper`` under bf16 autocast.

Config switch (any device)::

    optim_wrapper = dict(type='FiniteBf16OptimWrapper', max_consecutive_bad_steps=5, ...)

or ``--cfg-options optim_wrapper.type=FiniteBf16OptimWrapper``. ``tools/train.py --amp``
picks these on a machine without an accelerator (:func:`amp_wrapper_type`) and mmengine's
fp16/bf16 ``AmpOptimWrapper`` (the plugin's ``FiniteAmpOptimWrapper``) on CUDA, NPU, MLU or
MUSA, as mmengine's ``--amp`` does.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager, nullcontext
from functools import cache
from pathlib import Path
from typing import Dict, Optional

import torch
from mmengine.device import (
    is_cuda_available,
    is_mlu_available,
    is_musa_available,
    is_npu_available,
)
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from mmpose.registry import OPTIM_WRAPPERS
from torch import nn

from .finite import FiniteOptimWrapper
from .run_settings import SettingsError

# /proc/cpuinfo flags of bf16 arithmetic in hardware: x86 AVX512-BF16 and AMX, Arm's BF16
_BF16_CPU_FLAGS = ('avx512_bf16', 'amx_bf16', 'bf16')


def cpuinfo_flags(path: str = '/proc/cpuinfo') -> set:
    """The CPU's feature flags as Linux lists them (``flags`` on x86, ``Features`` on Arm);
    empty where the file is missing (not Linux)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return set()
    flags = set()
    for line in text.splitlines():
        key, _, value = line.partition(':')
        if key.strip() in ('flags', 'Features'):
            flags.update(value.split())
    return flags


@cache
def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (AVX512-BF16, AMX-BF16 or Arm BF16).

    Read from torch's CPU capabilities (``torch.cpu.get_capabilities``, torch >= 2.8) and
    from ``/proc/cpuinfo``. oneDNN's ``torch.ops.mkldnn._is_mkldnn_bf16_supported`` is not
    used: it also says yes on AVX-512 CPUs that only emulate bf16 (slower than fp32)."""
    get_capabilities = getattr(torch.cpu, 'get_capabilities', None)
    if get_capabilities is not None:
        capabilities = get_capabilities()
        if capabilities.get('avx512_bf16') or capabilities.get('amx_bf16'):
            return True
    return bool(cpuinfo_flags() & set(_BF16_CPU_FLAGS))


def bf16_autocast_supported(device_type: str) -> bool:
    """Whether bf16 autocast on ``device_type`` runs on bf16 hardware (faster than fp32)."""
    if device_type == 'cpu':
        return cpu_has_bf16()
    if device_type == 'cuda':
        return torch.cuda.is_bf16_supported()
    return torch.amp.is_autocast_available(device_type)


def accelerator_available() -> bool:
    """Whether mmengine's ``AmpOptimWrapper`` can be built here (it asserts one of these)."""
    return (is_cuda_available() or is_npu_available() or is_mlu_available()
            or is_musa_available())


def amp_wrapper_type(wrapper_type: Optional[str]) -> str:
    """The optimiser wrapper that ``--amp`` turns ``wrapper_type`` into on this machine:
    mmengine's AMP (the plugin's finite twin for ``FiniteOptimWrapper``) with an
    accelerator, the bf16 autocast wrappers of this module without one."""
    finite = wrapper_type in ('FiniteOptimWrapper', 'FiniteAmpOptimWrapper',
                              'FiniteBf16OptimWrapper')
    if accelerator_available():
        return 'FiniteAmpOptimWrapper' if finite else 'AmpOptimWrapper'
    return 'FiniteBf16OptimWrapper' if finite else 'Bf16OptimWrapper'


def _device_type(model: nn.Module) -> str:
    param = next(model.parameters(), None)
    return 'cpu' if param is None else param.device.type


def apply_amp(cfg) -> None:
    """``--amp`` of ``tools/train.py`` and ``tools/demo.py`` on an mmengine ``Config``: with a
    GPU (NPU, MLU, MUSA), mmengine's ``AmpOptimWrapper`` (fp16 with dynamic loss scaling
    unless the config sets ``dtype`` / ``loss_scale``); on a CPU, bf16 autocast without loss
    scaling (fp32, said in the log, where the CPU has no AVX512-BF16 or AMX). The plugin's
    non-finite guard (``FiniteOptimWrapper``) keeps its AMP twin."""
    wrapper = cfg.optim_wrapper
    wrapper.type = amp_wrapper_type(wrapper.get('type', 'OptimWrapper'))
    if accelerator_available():
        wrapper.setdefault('loss_scale', 'dynamic')
        return
    if wrapper.get('dtype', 'bfloat16') != 'bfloat16':
        raise SettingsError(f'--amp on a CPU autocasts to bfloat16, but optim_wrapper.dtype='
                            f"{wrapper.dtype!r}; remove it or set it to 'bfloat16'")
    if wrapper.pop('loss_scale', None) is not None:
        print_log('--amp on a CPU: bf16 autocast needs no loss scaling; '
                  'optim_wrapper.loss_scale ignored', logger='current', level=logging.WARNING)


class Bf16AutocastMixin:
    """An optimiser wrapper's ``optim_context`` under bf16 autocast on the model's device
    (fp32 where the device has no bf16 hardware, said once in the log).

    Args:
        dtype: ``'bfloat16'`` (the only one: fp16 needs loss scaling, which mmengine's
            ``AmpOptimWrapper`` does on accelerators).
    """

    def _init_autocast(self, dtype) -> None:
        if dtype not in ('bfloat16', torch.bfloat16):
            raise ValueError(
                f'optim_wrapper.dtype={dtype!r}: {type(self).__name__} autocasts to bfloat16 '
                "only; remove dtype or set it to 'bfloat16' (fp16 needs loss scaling: use "
                "type='AmpOptimWrapper' on a GPU)")
        self.cast_dtype = torch.bfloat16
        self._autocast_on: Dict[str, bool] = {}  # device type -> bf16 hardware there

    def autocast_enabled(self, device_type: str) -> bool:
        """Whether the forward pass runs under bf16 autocast on ``device_type`` (logs the
        choice the first time each device type is seen)."""
        if device_type not in self._autocast_on:
            enabled = bf16_autocast_supported(device_type)
            self._autocast_on[device_type] = enabled
            if enabled:
                print_log(f'{type(self).__name__}: training under bf16 autocast on '
                          f'{device_type}', logger='current', level=logging.INFO)
            else:
                hardware = ('AVX512-BF16 or AMX' if device_type == 'cpu'
                            else 'bf16 support')
                print_log(f'{type(self).__name__}: this {device_type} has no {hardware}; '
                          'training in fp32 (bf16 would be emulated, slower than fp32)',
                          logger='current', level=logging.WARNING)
        return self._autocast_on[device_type]

    @contextmanager
    def optim_context(self, model: nn.Module):
        device_type = _device_type(model)
        cast = torch.autocast(device_type, dtype=torch.bfloat16) \
            if self.autocast_enabled(device_type) else nullcontext()
        with super().optim_context(model), cast:
            yield

    def load_state_dict(self, state_dict: dict) -> None:
        # a checkpoint of mmengine's AmpOptimWrapper: its GradScaler state has no use here
        state_dict = {k: v for k, v in state_dict.items() if k != 'loss_scaler'}
        super().load_state_dict(state_dict)


@OPTIM_WRAPPERS.register_module()
class Bf16OptimWrapper(Bf16AutocastMixin, OptimWrapper):
    """mmengine's ``OptimWrapper`` with its forward pass under bf16 autocast."""

    def __init__(self, *args, dtype='bfloat16', **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_autocast(dtype)


@OPTIM_WRAPPERS.register_module()
class FiniteBf16OptimWrapper(Bf16AutocastMixin, FiniteOptimWrapper):
    """:class:`~rtmo_plugin.engine.finite.FiniteOptimWrapper` (steps with a non-finite
    loss or gradient skipped) with its forward pass under bf16 autocast."""

    def __init__(self, *args, dtype='bfloat16', max_consecutive_bad_steps: int = 5,
                 check_weights: bool = True, **kwargs) -> None:
        super().__init__(*args, max_consecutive_bad_steps=max_consecutive_bad_steps,
                         check_weights=check_weights, **kwargs)
        self._init_autocast(dtype)
