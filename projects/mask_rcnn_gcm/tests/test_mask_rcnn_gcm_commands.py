"""The README's commands, each in a fresh process as a user runs it, on tiny inputs."""
from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys

import pytest
from mask_rcnn_gcm_fixtures import PROJECT, REPO

from rtmo_plugin.lab.demo_runner import synthetic_coco

pytestmark = pytest.mark.slow  # subprocesses that build and train models

TINY = 'projects/mask_rcnn_gcm/configs/tiny/kpt-mask-rcnn_tiny_synthetic-160.py'


def run(cmd, timeout=600):
    proc = subprocess.run([sys.executable, *map(str, cmd)], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


def test_demo_trains_both_models_and_writes_the_table(tmp_path):
    out = tmp_path / 'results'
    run([PROJECT / 'tools/demo.py', '--out', out, '--data', tmp_path / 'data',
         '--train-images', 8, '--val-images', 2, '--epochs', 1, '--num-pictures', 1])
    rows = json.loads((out / 'metrics.json').read_text())
    assert [row['model'] for row in rows] == ['Keypoint Mask R-CNN + 1x1 stem (baseline)',
                                             '+ refined features + GCM']
    for row in rows:
        for key in ('keypoint AP', 'box AP', 'mask AP'):
            assert math.isfinite(row[key]) and -1 <= row[key] <= 1, row
    assert (out / 'predictions.jpg').stat().st_size > 0
    for name in ('kpt-mask-rcnn_tiny_synthetic-160', 'kpt-mask-rcnn-gcm_tiny_synthetic-160'):
        assert (out / 'work' / name / 'epoch_1.pth').is_file()


def test_train_script_trains_a_project_config(tmp_path):
    data = synthetic_coco(tmp_path / 'data', 8, 2, 160, masks=True)
    val_ann = data / 'annotations/person_keypoints_val.json'
    options = [f'{key}.dataset.data_root={data}/' for key in ('train_dataloader',
                                                              'val_dataloader')]
    options += [f'val_evaluator.{i}.ann_file={val_ann}' for i in (0, 1)]
    options += ['train_cfg.max_epochs=1']
    work = tmp_path / 'work'
    run(['tools/train.py', TINY, '--work-dir', work, '--cfg-options', *options])
    assert (work / 'epoch_1.pth').is_file()
    (scalars,) = work.glob('*/vis_data/scalars.json')
    metrics = [json.loads(line) for line in scalars.read_text().splitlines()
               if '"coco/AP"' in line]
    assert len(metrics) == 1 and 'coco/segm_mAP' in metrics[0]


def test_benchmark_times_both_pipelines(tmp_path):
    data = synthetic_coco(tmp_path / 'data', 2, 1, 160, masks=True)
    flat = tmp_path / 'images'        # the layout of coco-mini: images beside the json
    flat.mkdir()
    shutil.copy(data / 'annotations/person_keypoints_train.json',
                flat / 'person_keypoints.json')
    for image in (data / 'train').glob('*.jpg'):
        shutil.copy(image, flat / image.name)
    out = tmp_path / 'results'
    run([PROJECT / 'tools/benchmark.py', '--images', flat, '--repeats', 1,
         '--scale', 160, 128, '--out', out])
    table = (out / 'benchmark.md').read_text()
    for row in ('one stage: Keypoint Mask R-CNN + GCM', 'person detection',
                'ratio two stages / one stage'):
        assert row in table, table
