"""A shortened main job: a few iterations on a handful of generated images, in the two
training processes the demo uses on a CPU."""
import json
import subprocess
import sys

import pytest

from helpers import REPO

pytestmark = pytest.mark.slow  # subprocess runs / training experiments


def test_short_demo_trains_evaluates_and_draws(tmp_path):
    """``tools/demo.py --amp`` on tiny inputs in two processes."""
    out = tmp_path / 'results'
    cmd = [sys.executable, str(REPO / 'tools/demo.py'), '--out', str(out),
           '--data', str(tmp_path / 'data'), '--train-images', '16', '--val-images', '4',
           '--epochs', '12', '--num-pictures', '3', '--procs', '2', '--amp',
           '--cfg-options', 'default_hooks.logger.interval=1',
           'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
           'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
           'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False']
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]

    metrics = json.loads((out / 'metrics.json').read_text())
    assert {'AP', 'AP .5', 'AR'} <= set(metrics)
    assert all(-1.0 <= v <= 1.0 for v in metrics.values())
    assert (out / 'predictions.jpg').stat().st_size > 0
    assert (out / 'curves.png').stat().st_size > 0
    assert 'AP table:' in proc.stdout
    assert 'Distributed training: True' in proc.stdout  # two processes split each batch
    # --amp: bf16 autocast where the CPU has it, fp32 (said) where it does not
    assert ('FiniteBf16OptimWrapper: training under bf16 autocast on cpu' in proc.stdout
            or 'FiniteBf16OptimWrapper: this cpu has no AVX512-BF16' in proc.stdout)

    (scalars,) = (out / 'work').glob('*/vis_data/scalars.json')  # the training run's only
    losses = [json.loads(line)['loss'] for line in scalars.read_text().splitlines()
              if '"loss"' in line]
    assert len(losses) >= 20
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < first, f'training did not decrease the loss: {first:.3f} -> {last:.3f}'
