"""A shortened demo: a few frames, one epoch per model, the table and the picture."""
import json
import subprocess
import sys

import pytest
from flic_fixtures import PROJECT


@pytest.mark.slow
def test_short_demo_writes_table_and_picture(tmp_path):
    out = tmp_path / 'results'
    cmd = [sys.executable, str(PROJECT / 'tools/demo.py'), '--out', str(out), '--data',
           str(tmp_path / 'data'), '--train-frames', '4', '--test-frames', '2', '--epochs', '1',
           '--batch-size', '4', '--num-pictures', '1']
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    rows = json.loads((out / 'metrics.json').read_text())
    models = {r['model'] for r in rows}
    assert {'ResNet-50 regression', 'RTMPose-t (SimCC)'} <= models
    for r in rows:
        assert 0 <= r['PCK'] <= 1, r
        if r['model'] != 'MediaPipe Pose' and r['train_min'] is not None:
            assert r['best_epoch'] == 1, r  # validated on held-out training frames
        # no MSE only where a model found nobody (MediaPipe on stick figures)
        assert r['MSE'] >= 0 or r['missed'] == 1, r
    assert (out / 'predictions.jpg').stat().st_size > 0
    assert 'FLIC metrics table:' in proc.stdout
    assert "torso box gives (FLIC's protocol)" in proc.stdout
