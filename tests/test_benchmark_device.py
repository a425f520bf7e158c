"""tools/benchmark.py --device: a clear stop where CUDA is missing, the device's own clock and
memory in the timing code (exercised on the CPU, with torch.cuda stood in where needed)."""
import pytest
import torch

from helpers import load_tool
from rtmo_plugin.lab import benchmark as bm


@pytest.fixture(scope='module')
def benchmark():
    return load_tool('benchmark')


def _error(benchmark, argv, capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        benchmark.parse_args(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_cuda_without_a_gpu_stops_with_a_clear_message(benchmark, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    message = _error(benchmark, ['--device', 'cuda'], capsys)
    assert '--device cuda: this machine has no CUDA device' in message
    assert 'torch.cuda.is_available() is False' in message and '--device cpu' in message


@pytest.mark.parametrize('argv, expected', [
    (['--device', 'gpu0'], "--device gpu0: not a device; use 'cpu', 'cuda' or 'cuda:N'"),
    (['--device', 'meta'], "--device meta: only 'cpu' and 'cuda' are timed here"),
    (['--device', 'cuda:3'], '--device cuda:3: there are 1 CUDA devices here'),
    (['--device', 'cuda', '--clock', 'cpu'], '--clock cpu times this process'),
    (['--device', 'cuda', '--rows', 'predict,floor'], '--rows floor: a CPU measure'),
])
def test_device_arguments_are_checked(benchmark, capsys, monkeypatch, argv, expected):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)  # one GPU, as far as
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: 1)     # the checks can tell
    assert expected in _error(benchmark, argv, capsys)


def test_device_selects_its_rows(benchmark, monkeypatch):
    cpu = benchmark.parse_args([])
    assert cpu.device == torch.device('cpu') and cpu.rows.split(',') == list(benchmark.ROWS)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: 2)
    gpu = benchmark.parse_args(['--device', 'cuda'])
    assert gpu.device == torch.device('cuda', 0) and 'floor' not in gpu.rows.split(',')
    assert benchmark.parse_args(['--device', 'cuda:1']).device == torch.device('cuda', 1)


def test_device_clock_waits_for_the_gpu(monkeypatch):
    waited = []
    monkeypatch.setattr(torch.cuda, 'synchronize', lambda device=None: waited.append(device))
    ticks = iter([1.0, 2.5])
    clock = bm.device_clock(lambda: next(ticks), 'cuda:1')
    assert clock() == 1.0 and clock() == 2.5
    assert waited == [torch.device('cuda', 1)] * 2  # before every reading
    cpu_clock = bm.time.perf_counter
    assert bm.device_clock(cpu_clock, 'cpu') is cpu_clock  # nothing to wait for


@pytest.mark.slow  # builds and times two RTMO-t
def test_the_device_reaches_the_timing_code(benchmark, coco_mini, monkeypatch, capsys):
    seen = []
    real_clock, real_predict = bm.device_clock, bm.predict_rows

    def spy_clock(clock, device):
        seen.append(('clock', device))
        return real_clock(clock, device)

    def spy_predict(plugin, ref, tests, **kwargs):
        seen.append(('predict', kwargs['device'], next(plugin.parameters()).device,
                     next(ref.parameters()).device))
        return real_predict(plugin, ref, tests, **kwargs)

    monkeypatch.setattr(bm, 'device_clock', spy_clock)
    monkeypatch.setattr(bm, 'predict_rows', spy_predict)
    rows = benchmark.main(['--device', 'cpu', '--data', str(coco_mini), '--model', 't',
                           '--input-size', '64', '--images', '1', '--repeats', '1',
                           '--warmup', '0', '--nms-pre', '5', '--rows', 'predict'])
    cpu = torch.device('cpu')
    assert seen == [('clock', cpu), ('predict', cpu, cpu, cpu)]
    assert [row.what for row in rows] == ['eager predict, batch 1', 'peak memory, eager predict']
    assert rows[1].check == 'peak RSS growth of one call'
    assert 'RTMO-t at 64x64 on cpu, batch 1' in capsys.readouterr().out


@pytest.mark.slow  # times a small RTMO
def test_gpu_deploy_rows_say_why_a_path_is_not_timed(benchmark, coco_mini, monkeypatch):
    """Where onnxruntime has no CUDA execution provider (this CPU wheel), the eager path is
    timed on the model's device and the ONNX row names what is missing."""
    import onnxruntime

    from rtmo_plugin.build import build_model

    monkeypatch.setattr(onnxruntime, 'get_available_providers', lambda: ['CPUExecutionProvider'])
    plugin = build_model('configs/demo/rtmo-demo_synthetic-128x128.py')
    tests, _ = benchmark.batches((coco_mini, 'person_keypoints.json', ''), 64, 1)
    eager, missing = bm.cuda_deploy_rows(plugin.eval(), tests, 100.0, repeats=1)
    assert eager.what == 'deploy on cpu: eager (end to end)' and eager.plugin > 0
    assert eager.mmpose == 100.0 and eager.check == 'vs MMPose eager predict on cpu'
    assert missing.plugin is None and missing.what == 'deploy on cpu: ort_cuda_fp32'
    assert 'has no CUDAExecutionProvider (available: CPUExecutionProvider)' in missing.check
    assert missing.check.endswith('install onnxruntime-gpu')


@pytest.mark.slow  # a fresh interpreter
def test_readme_gpu_command_stops_clearly_without_a_gpu():
    """README's ``python tools/benchmark.py --device cuda --model l``, as a user on a machine
    without a GPU runs it (no CUDA device visible)."""
    import os
    import subprocess
    import sys

    from helpers import REPO

    env = dict(os.environ, CUDA_VISIBLE_DEVICES='')
    done = subprocess.run([sys.executable, 'tools/benchmark.py', '--device', 'cuda', '--model',
                           'l'], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr[-2000:]
    assert '--device cuda: this machine has no CUDA device' in done.stderr
    assert done.stdout == ''  # stopped before building anything
