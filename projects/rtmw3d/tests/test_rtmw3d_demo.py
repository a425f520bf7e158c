"""The demo, shortened: generate -> train both models side by side -> MPJPE table + picture."""
import json
import subprocess
import sys

import pytest
from rtmw3d_fixtures import PROJECT

pytestmark = pytest.mark.slow  # a subprocess that trains two models


def test_short_demo_trains_both_models_side_by_side_and_reports(tmp_path):
    out = tmp_path / 'results'
    cmd = [sys.executable, str(PROJECT / 'tools/demo.py'), '--out', str(out),
           '--data', str(tmp_path / 'data'), '--train-poses', '3', '--val-poses', '1',
           '--size', '128', '--epochs', '2', '--num-pictures', '2',
           '--cfg-options', 'default_hooks.logger.interval=1']
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]

    rows = json.loads((out / 'metrics.json').read_text())
    assert [r['model'] for r in rows] == ['RTMW3D-tiny', 'same, z loss weight 0',
                                         'training-set mean pose']
    for row in rows:
        assert 0 < row['MPJPE'] < 5 and 0 < row['P-MPJPE'] <= row['MPJPE'] + 1e-6
    assert (out / 'predictions.jpg').stat().st_size > 0
    for name in ('rtmw3d-tiny', 'rtmw3d-tiny_no-z-loss'):  # each trained its own model
        assert (out / name / 'epoch_2.pth').is_file()
        (scalars,) = (out / name).glob('*/vis_data/scalars.json')
        steps = [json.loads(line) for line in scalars.read_text().splitlines()
                 if '"loss_z"' in line]
        assert len(steps) == 2
        z_off = name.endswith('no-z-loss')
        assert all((s['loss_z'] == 0) == z_off for s in steps)
