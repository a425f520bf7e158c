"""The MediaPipe baseline runs offline in its own environment on COCO persons converted to
FLIC's slots (the real coco-mini photos when present) and prints finite scores."""
import json
import math
import re
import subprocess

import pytest
from flic_fixtures import MEDIAPIPE_PYTHON, PROJECT, coco_persons

from projects.flic_regression.flic_regression.data import write_coco_as_flic


@pytest.mark.skipif(not MEDIAPIPE_PYTHON.is_file(),
                    reason=f'{MEDIAPIPE_PYTHON} not found: MediaPipe needs its own environment, '
                    'run `bash projects/flic_regression/tools/install_mediapipe.sh`')
def test_mediapipe_scores_converted_coco_persons(tmp_path):
    coco_file, images, real = coco_persons(tmp_path)
    mat, kept, _ = write_coco_as_flic(coco_file, tmp_path / 'examples.mat')
    out = tmp_path / 'mediapipe.json'
    proc = subprocess.run(
        [str(MEDIAPIPE_PYTHON), str(PROJECT / 'tools/mediapipe_baseline.py'), '--ann', str(mat),
         '--images', str(images), '--out', str(out)], capture_output=True, text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    printed = dict(re.findall(r'(PCK|MSE|Accuracy|missed) ([0-9.naninf]+)', proc.stdout))
    assert math.isfinite(float(printed['PCK'])), proc.stdout
    result = json.loads(out.read_text())
    assert len(result['predictions']) == kept
    assert all(len(p['keypoints']) == 29 for p in result['predictions'])
    metrics = result['metrics']
    assert 0 <= metrics['PCK'] <= 1 and 0 <= metrics['Accuracy'] <= 1
    if real:  # MediaPipe finds these photographed people (measured: PCK@0.2 0.65 on 12)
        assert metrics['missed'] < 0.5 and metrics['PCK'] > 0.5
