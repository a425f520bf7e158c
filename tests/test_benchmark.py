"""Smoke test of tools/benchmark.py: tiny inputs, one repeat; checks the table, not speed."""
import pytest

from helpers import load_tool
from rtmo_plugin.lab.benchmark import conv_gflop
from rtmo_plugin.lab.report import markdown_table, time_in_turns


@pytest.mark.slow
def test_benchmark_runs_and_reports_every_row(coco_mini, tmp_path, capsys):
    benchmark = load_tool('benchmark')
    out = tmp_path / 'table.md'
    rows = benchmark.main(['--data', str(coco_mini), '--model', 't', '--input-size', '128',
                           '--images', '1', '--repeats', '1', '--warmup', '0', '--nms-pre', '20',
                           '--rows', 'predict,train,breakdown,codec,deploy,floor',
                           '--out', str(out)])
    names = [row.what for row in rows]
    for prefix in ('eager predict', 'peak memory, eager predict', 'training step',
                   'peak memory, training step', 'codec encode', 'codec decode'):
        assert any(name.startswith(prefix) for name in names), prefix
    assert sum('step phase' in name for name in names) == 5
    assert any(name.startswith('deploy: ort_fp32') for name in names), names
    floors = {row.what: row for row in rows if row.what.startswith('floor')}
    work = floors['floor: convolution work of the deploy model, 1 image']
    assert work.unit == 'GFLOP' and work.plugin > 0
    for precision in ('fp32', 'int8'):  # bf16 only where the CPU has it
        peak = next(row for name, row in floors.items()
                    if name.startswith(f'floor: {precision} peak'))
        floor = floors[f'floor: {precision}, the convolutions at that peak']
        assert abs(floor.plugin - 1e3 * work.plugin / peak.plugin) < 1e-6
        assert 'best GEMM' in peak.check, peak.check
    assert 'timed paths are slower than their floor' in floors['floor check'].check
    timed = [row for row in rows if row.unit == 'ms']
    assert all(row.plugin > 0 and row.mmpose > 0 and row.speedup > 0 for row in timed)
    train = next(row for row in rows if row.what.startswith('training step'))
    assert train.check.endswith(': equal'), train.check  # as built, without the hooks
    assert train.check.startswith('as the config trains'), train.check
    table = out.read_text()
    assert table.strip() in capsys.readouterr().out  # printed and written alike
    assert '| eager predict, batch 1 | ms |' in table and 'Machine:' in table
    predict = next(row for row in rows if row.what.startswith('eager predict'))
    assert float(predict.check.split()[3]) < 1e-3, predict.check  # max abs diff of outputs


def test_conv_gflop_counts_every_convolution():
    from torch import nn

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1),
                                      nn.Conv2d(4, 4, 3, padding=1, groups=2))
            self.head = nn.Conv2d(4, 2, 1)

        def extract_feat(self, x):
            return self.stem(x)

    side = 8
    # 2 x multiply-adds: output values x inputs per output (in_channels / groups x kernel)
    expected = 2 * side * side * (4 * 3 * 9 + 4 * 2 * 9 + 2 * 4)
    model = Tiny()
    assert abs(conv_gflop(model, side) - expected / 1e9) < 1e-15
    assert not any(m._forward_hooks for m in model.modules())  # hooks removed


def test_time_in_turns_alternates_the_functions_and_takes_medians():
    calls = []
    ticks = iter(range(1000))
    fns = {'a': lambda: calls.append('a'), 'b': lambda: calls.append('b')}
    # a fake clock that advances 1 s per reading: every call lasts 1000 ms
    ms = time_in_turns(fns, repeats=3, warmup=1, clock=lambda: float(next(ticks)))
    assert calls == ['a', 'b'] * 4  # the warm-up round, then three rounds in turns
    assert ms == {'a': 1000.0, 'b': 1000.0}


def test_markdown_table_columns_in_first_seen_order_and_empty_cells():
    table = markdown_table([dict(a=1.23456, b='x'), dict(c=None, a=2)], digits=2)
    assert table == '| a | b | c |\n|---|---|---|\n| 1.23 | x |  |\n| 2 |  |  |\n'


def test_deploy_rows_time_the_model_in_memory(monkeypatch):
    """No temporary checkpoint and no rebuild: the deploy paths get the benchmark's own model
    (its weights and test_cfg), in eval mode."""
    from types import SimpleNamespace

    import torch
    from torch import nn

    from rtmo_plugin.lab import benchmark as bm
    from rtmo_plugin.lab import deploy_bench

    seen = {}

    def fake_latency_rows(model, images, repeats, threads):
        seen.update(model=model, training=model.training, images=images)
        return [dict(path='ort_fp32', median_ms=20.0, speedup=None)]

    monkeypatch.setattr(deploy_bench, 'latency_rows', fake_latency_rows)
    monkeypatch.setattr(deploy_bench, 'load_images', lambda paths: [f'read {p}' for p in paths])
    monkeypatch.setattr(torch, 'save', lambda *a, **k: pytest.fail('saved a checkpoint'))
    plugin = nn.Linear(1, 1).train()
    tests = [dict(data_samples=[SimpleNamespace(img_path='a.jpg')])]
    (row,) = bm.deploy_rows(plugin, tests, 100.0, repeats=1, threads=1)
    assert seen == dict(model=plugin, training=False, images=['read a.jpg'])
    assert (row.what, row.plugin, row.speedup) == ('deploy: ort_fp32 (end to end)', 20.0, 5.0)


CPUINFO = """processor\t: 0
cpu MHz\t\t: 2000.000
flags\t\t: fpu sse2 avx2 avx512f avx512_vnni
processor\t: 1
cpu MHz\t\t: 1000.000
flags\t\t: fpu
"""


def test_computed_peaks_are_cores_times_clock_times_the_best_unit(tmp_path):
    from rtmo_plugin.lab.peak import Peak, computed_peak, cpu_info, least_clock_ghz

    path = tmp_path / 'cpuinfo'
    path.write_text(CPUINFO)
    flags, mhz = cpu_info(str(path))  # the first processor's
    assert mhz == 2000.0 and {'avx512f', 'avx512_vnni'} <= flags and 'fpu' in flags
    assert computed_peak('fp32', 2, flags, 2.0).gflops == 2 * 2.0 * 64  # AVX-512 beats AVX2
    assert computed_peak('int8', 2, flags, 2.0).gflops == 2 * 2.0 * 256
    assert computed_peak('bf16', 2, flags, 2.0) is None  # no bf16 unit
    # a measured int8 GEMM at 1,536 GOP/s on 2 cores of 256 ops/cycle proves 3 GHz
    ghz, how = least_clock_ghz([Peak('int8', 1536.0, '')], 2, flags, mhz)
    assert ghz == 3.0 and 'int8 GEMM' in how
    assert least_clock_ghz([Peak('int8', 100.0, '')], 2, flags, mhz)[0] == 2.0  # reported


def test_peaks_take_the_larger_of_measured_and_computed(tmp_path):
    from rtmo_plugin.lab.peak import peaks

    path = tmp_path / 'cpuinfo'
    path.write_text(CPUINFO.replace('2000.000', '0.001'))  # a clock no GEMM is below
    fp32, int8 = peaks(['fp32', 'int8'], cores=1, sizes=(64,), cpuinfo=str(path))
    values = []
    for peak in (fp32, int8):
        measured, computed = (float(part.split(' = ')[1]) for part in peak.how.split('; '))
        assert 'computed 1 cores' in peak.how, peak.how
        assert abs(peak.gflops - max(measured, computed)) <= 0.5 and measured > 0  # 0 digits
        values.append((measured, computed))
    # the clock is the one the fastest GEMM (relative to its unit) proves: there they agree
    assert min(abs(m - c) for m, c in values) <= 1.0, values


def test_floor_violations_name_paths_faster_than_their_precision_floor():
    from rtmo_plugin.lab.peak import floor_violations, precision_of

    assert [precision_of(p) for p in ('ort_fp32', 'torch_fused_bf16', 'ort_int8_static')] == \
        ['fp32', 'bf16', 'int8']
    floors = {'fp32': 60.0, 'int8': 15.0}
    assert floor_violations({'ort_fp32': 63.0, 'ort_int8_static': 38.0}, floors) == []
    broken = floor_violations({'ort_fp32': 50.0, 'torch_fused_bf16': 10.0}, floors)
    assert len(broken) == 2 and broken[0].startswith('ort_fp32 took 50.0 ms, below its fp32')
    assert 'bf16 floor 15.0 ms' in broken[1]  # no bf16 floor: the lowest one bounds it
