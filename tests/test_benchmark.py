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
    work, speed, floor = (row for row in rows if row.what.startswith('fp32 floor'))
    assert work.unit == 'GFLOP' and speed.unit == 'GFLOP/s' and work.plugin > 0
    assert abs(floor.plugin - 1e3 * work.plugin / speed.plugin) < 1e-6
    timed = [row for row in rows if row.unit == 'ms']
    assert all(row.plugin > 0 and row.mmpose > 0 and row.speedup > 0 for row in timed)
    train = next(row for row in rows if row.what.startswith('training step'))
    assert train.check.endswith(': equal'), train.check
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
    monkeypatch.setattr(torch, 'save', lambda *a, **k: pytest.fail('saved a checkpoint'))
    plugin = nn.Linear(1, 1).train()
    tests = [dict(data_samples=[SimpleNamespace(img_path='a.jpg')])]
    (row,) = bm.deploy_rows(plugin, tests, 100.0, repeats=1, threads=1)
    assert seen == dict(model=plugin, training=False, images=['a.jpg'])
    assert (row.what, row.plugin, row.speedup) == ('deploy: ort_fp32 (end to end)', 20.0, 5.0)
