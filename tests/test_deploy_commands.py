"""The deploy commands that README.md and docs/deploy.md show, each run as a user types it: a
fresh ``python -m ...`` process (so an import-order accident in the test process cannot hide
a crash), on tiny inputs the tests write (a demo checkpoint, a photo, a 3-frame video, a
one-image COCO set), one timed repeat. Config paths are relative to the clone, as the
docs write them (the plugin resolves them from the repository root), all other paths
relative to the user's folder."""
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from rtmo_plugin.build import build_model
from rtmo_plugin.synthetic import write_split

REPO = Path(__file__).resolve().parents[1]
DEMO = 'configs/demo/rtmo-demo_synthetic-128x128.py'
RTMO_S = 'configs/rtmo/coco/rtmo-s_8xb32-600e_coco-640x640.py'

pytestmark = pytest.mark.slow


def run(args, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """``python ARGS`` in ``cwd`` as a shell user runs it (the clone importable, as after
    ``pip install -e .``); fails the test with the output when it exits non-zero."""
    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get('PYTHONPATH', '')]))
    done = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f'{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}'
    return done


def save_checkpoint(config: str, path: Path) -> Path:
    """A checkpoint as training saves it, ``dataset_meta`` included: loading one then needs
    nothing from ``mmpose.apis`` (which imports torchvision), so torchvision's first import
    is the deploy code's own, as for a user."""
    model = build_model(REPO / config)
    torch.save({'state_dict': model.state_dict(),
                'meta': {'dataset_meta': model.dataset_meta}}, path)
    return path


@pytest.fixture(scope='module')
def workdir(tmp_path_factory, coco_mini):
    """A user's folder: a demo checkpoint, photo.jpg, video.mp4 (3 frames), a.jpg, b.jpg."""
    root = tmp_path_factory.mktemp('user')
    save_checkpoint(DEMO, root / 'epoch_44.pth')
    photo = cv2.imread(str(sorted(coco_mini.glob('*.jpg'))[0]))
    cv2.imwrite(str(root / 'photo.jpg'), photo)
    cv2.imwrite(str(root / 'a.jpg'), cv2.resize(photo, (160, 120)))
    cv2.imwrite(str(root / 'b.jpg'), cv2.resize(photo, (96, 128)))
    video = cv2.VideoWriter(str(root / 'video.mp4'), cv2.VideoWriter_fourcc(*'mp4v'), 5,
                            (192, 128))
    for shift in range(3):
        video.write(np.roll(cv2.resize(photo, (192, 128)), 8 * shift, axis=1))
    video.release()
    return root


def test_readme_export_then_rtmo_ort(workdir):
    """README: ``deploy export CONFIG CKPT -o rtmo.onnx``, then ``python -m rtmo_ort rtmo.onnx
    photo.jpg video.mp4 --out-dir results/``."""
    out = run(['-m', 'rtmo_plugin.deploy', 'export', DEMO, 'epoch_44.pth',
               '-o', 'rtmo.onnx'], workdir).stdout
    assert 'wrote rtmo.onnx' in out
    assert sorted(p.name for p in workdir.glob('*.onnx*')) == ['rtmo.onnx']  # nothing left over
    out = run(['-m', 'rtmo_ort', 'rtmo.onnx', 'photo.jpg', 'video.mp4', '--out-dir',
               'results/'], workdir).stdout
    assert 'photo.jpg: ' in out and 'video.mp4: 3 frames' in out
    results = workdir / 'results'
    assert sorted(p.name for p in results.iterdir()) == ['photo.jpg', 'video.mp4']
    assert cv2.imread(str(results / 'photo.jpg')).shape == cv2.imread(
        str(workdir / 'photo.jpg')).shape
    capture = cv2.VideoCapture(str(results / 'video.mp4'))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 3


def test_docs_export_fused_rtmo_s(workdir):
    """docs/deploy.md: ``deploy export configs/rtmo/coco/rtmo-s_... rtmo-s.pth -o rtmo-s.onnx``
    with its listed flags ``--input-size W H --fuse`` (a 64x64 input keeps it small)."""
    save_checkpoint(RTMO_S, workdir / 'rtmo-s.pth')
    run(['-m', 'rtmo_plugin.deploy', 'export', RTMO_S, 'rtmo-s.pth', '-o', 'rtmo-s.onnx',
         '--input-size', '64', '64', '--fuse'], workdir)
    import onnxruntime as ort

    session = ort.InferenceSession(str(workdir / 'rtmo-s.onnx'))
    assert session.get_inputs()[0].shape == [1, 3, 64, 64]
    assert not any('kpt_reg' in node.name for node in __import__('onnx').load(
        str(workdir / 'rtmo-s.onnx')).graph.node)  # the fused graph lost the training branch


def test_docs_bench(workdir):
    """docs/deploy.md: ``deploy bench CONFIG [CHECKPOINT] --images a.jpg b.jpg --threads 1``
    (every path, one timed repeat)."""
    out = run(['-m', 'rtmo_plugin.deploy', 'bench', DEMO, 'epoch_44.pth',
               '--images', 'a.jpg', 'b.jpg', '--threads', '1', '--repeats', '1'], workdir).stdout
    rows = [line for line in out.splitlines() if line.startswith('| ') and 'ms' not in line]
    from rtmo_plugin.deploy.backends import ALL_PATHS
    assert [row.split('|')[1].strip() for row in rows] == list(ALL_PATHS)


def test_docs_eval(workdir):
    """docs/deploy.md: ``deploy eval CONFIG CHECKPOINT --data-root DATA`` on a one-image COCO
    set, every path, with ``--json``."""
    write_split(workdir / 'coco1', 'val', 1, 128, 0)
    out = run(['-m', 'rtmo_plugin.deploy', 'eval', DEMO, 'epoch_44.pth',
               '--data-root', 'coco1', '--json', 'ap.json'], workdir).stdout
    assert '| ort_fp32 |' in out
    from rtmo_plugin.deploy.backends import ALL_PATHS
    results = json.loads((workdir / 'ap.json').read_text())
    assert list(results) == list(ALL_PATHS)
    assert all(0.0 <= stats['AP'] <= 1.0 for stats in results.values())
