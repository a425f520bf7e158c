"""ONNX export, the onnxruntime runner and the deploy-time model (rtmo_plugin.deploy, rtmo_ort)."""
import copy
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData
from torch import nn

from rtmo_ort import RTMO, to_input
from rtmo_plugin.deploy.export import RTMOExportWrapper, build_model, export_onnx, grid_priors
from rtmo_plugin.deploy.fuse import fuse_for_deploy

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / 'configs/demo/rtmo-demo_synthetic-128x128.py'
SIZE = (128, 128)


def spread_scores(model) -> None:
    """Freshly initialised scores all sit at the 0.01 prior and boxes are one cell wide.
    Large random score convs give scores of 0.002-0.7 on real images, and boxes 8 cells
    wide overlap their neighbours, so the threshold and NMS both have work to do."""
    generator = torch.Generator().manual_seed(0)
    for conv in model.head.head_module.out_cls:
        conv.weight.data = torch.randn(conv.weight.shape, generator=generator) * 5
        conv.bias.data.zero_()
    for conv in model.head.head_module.out_bbox:
        conv.bias.data[2:] = math.log(8.0)


@pytest.fixture(scope='module')
def model():
    model = build_model(DEMO)
    spread_scores(model)
    return model


@pytest.fixture(scope='module')
def onnx_file(model, tmp_path_factory):
    path = tmp_path_factory.mktemp('onnx') / 'rtmo.onnx'
    path.write_bytes(b'an older export')  # replaced once the new graph is complete
    return export_onnx(model, path)


@pytest.fixture(scope='module')
def images(coco_mini):
    return [cv2.imread(str(p)) for p in sorted(coco_mini.glob('*.jpg'))[:2]]


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """The graph's input of a BGR image (rtmo_ort's letterbox, the one preprocessing)."""
    return torch.from_numpy(to_input(image, SIZE)[0])


def eager_predict(model, tensor: torch.Tensor) -> InstanceData:
    """The plugin's own ``RTMOPoseHead.predict`` on an input tensor (input pixels)."""
    sample = InstanceData(metainfo=dict(input_size=tuple(tensor.shape[:1:-1])))
    with torch.no_grad():
        feats = model.extract_feat(tensor)
        return model.head.predict(feats, [sample], test_cfg=model.test_cfg)[0]


def test_grid_priors_equal_the_heads(model):
    outputs = model.head.forward(model.extract_feat(torch.zeros(1, 3, *SIZE)))
    priors = grid_priors(outputs.cls_scores, model.head.prior_generator)
    cells = sum((SIZE[0] // stride) * (SIZE[1] // stride) for stride in (16, 32))
    assert priors.shape == (cells, 4)
    assert torch.equal(priors, model.head._priors(outputs))


def test_onnx_matches_eager_predict(model, onnx_file, images):
    session = RTMO(onnx_file)
    for image in images:
        tensor = to_tensor(image)
        expected = eager_predict(model, tensor)
        dets, keypoints = session.inference(tensor.numpy())
        # non-trivial: people above the threshold, and NMS removed some candidates
        scores = RTMOExportWrapper(model).raw_outputs(tensor)[0]
        num_above = int((scores > model.test_cfg['score_thr']).sum())
        assert 0 < len(expected.scores) < num_above
        assert dets.shape == (1, len(expected.scores), 5)
        assert keypoints.shape == (1, len(expected.scores), 17, 3)
        np.testing.assert_allclose(dets[0, :, :4], expected.bboxes, atol=1e-3)
        np.testing.assert_allclose(dets[0, :, 4], expected.scores, atol=1e-3)
        np.testing.assert_allclose(keypoints[0, ..., :2], expected.keypoints, atol=1e-3)
        np.testing.assert_allclose(keypoints[0, ..., 2], expected.keypoint_scores, atol=1e-3)


def test_onnx_keeps_the_nms_pre_best_candidates_as_eager_predict(model, images, tmp_path):
    """``test_cfg.nms_pre`` caps the candidates before NMS in the graph as in the head: a
    graph that ignored it ran NMS and the DCC on every candidate above the threshold."""
    tensor = to_tensor(images[0])
    scores = RTMOExportWrapper(model).raw_outputs(tensor)[0]
    num_above = int((scores > model.test_cfg['score_thr']).sum())
    nms_pre = 3
    assert num_above > 2 * nms_pre  # the cap matters on this image
    capped = copy.deepcopy(model)
    capped.test_cfg = dict(model.test_cfg, nms_pre=nms_pre)
    expected = eager_predict(capped, tensor)
    dets, keypoints = RTMO(export_onnx(capped, tmp_path / 'capped.onnx')).inference(
        tensor.numpy())
    assert 0 < len(expected.scores) <= nms_pre
    assert dets.shape == (1, len(expected.scores), 5)
    np.testing.assert_allclose(dets[0, :, :4], expected.bboxes, atol=1e-3)
    np.testing.assert_allclose(dets[0, :, 4], expected.scores, atol=1e-3)
    np.testing.assert_allclose(keypoints[0, ..., :2], expected.keypoints, atol=1e-3)
    # without NMS (nms_thr=1): exactly the nms_pre best, in score order
    capped.test_cfg['nms_thr'] = 1.0
    expected = eager_predict(capped, tensor)
    dets, _ = RTMO(export_onnx(capped, tmp_path / 'no_nms.onnx')).inference(tensor.numpy())
    assert len(expected.scores) == nms_pre and dets.shape == (1, nms_pre, 5)
    np.testing.assert_allclose(dets[0, :, 4], np.sort(expected.scores)[::-1], atol=1e-3)
    np.testing.assert_allclose(dets[0, :, :4], expected.bboxes, atol=1e-3)


@pytest.mark.parametrize('fuse', [False, True])
def test_onnx_at_another_input_size_matches_eager_predict(model, images, tmp_path, fuse):
    """A non-square ``--input-size`` (the neck's position encodings are laid out (h, w)), also
    for a fused model (whose neck already holds the encodings of the config's size)."""
    size = (160, 96)
    source = fuse_for_deploy(model) if fuse else model
    session = RTMO(export_onnx(source, tmp_path / 'wide.onnx', input_size=size))
    assert session.input_size == size
    tensor = torch.from_numpy(to_input(images[0], size)[0])
    expected = eager_predict(model, tensor)
    dets, keypoints = session.inference(tensor.numpy())
    assert dets.shape == (1, len(expected.scores), 5) and len(expected.scores) > 0
    # encodings laid out (w, h) change the scores by ~6e-4 on this model; right, by ~1e-6
    np.testing.assert_allclose(dets[0, :, 4], expected.scores, atol=2e-5, rtol=0)
    np.testing.assert_allclose(dets[0, :, :4], expected.bboxes, atol=1e-3, rtol=0)
    np.testing.assert_allclose(keypoints[0, ..., :2], expected.keypoints, atol=1e-3, rtol=0)


def test_nobody_gives_one_zero_row(model, tmp_path, images):
    path = export_onnx(model, tmp_path / 'strict.onnx', score_thr=0.9999)
    dets, keypoints = RTMO(path).inference(to_tensor(images[0]).numpy())
    assert dets.shape == (1, 1, 5) and keypoints.shape == (1, 1, 17, 3)
    assert not dets.any() and not keypoints.any()
    rtmlib = pytest.importorskip('rtmlib')
    keypoints, scores = rtmlib.RTMO(str(path), model_input_size=SIZE)(images[0])
    assert not keypoints.any() and not scores.any()  # rtmlib indexes row 0 even when empty


def test_rtmlib_round_trip(onnx_file, images):
    rtmlib = pytest.importorskip('rtmlib')
    # nms_thr=1: the graph already ran NMS; rtmlib's own (IoU with +1) would add to it
    theirs = rtmlib.RTMO(str(onnx_file), model_input_size=SIZE, score_thr=0.3, nms_thr=1.0)
    ours = RTMO(onnx_file, score_thr=0.3)
    for image in images:
        assert image.shape[:2] != SIZE  # letterboxed: rtmlib's preprocessing is exercised
        keypoints, scores = theirs(image)
        poses = ours(image)
        assert len(poses.scores) > 0
        np.testing.assert_allclose(keypoints, poses.keypoints, atol=1e-4)
        np.testing.assert_allclose(scores, poses.keypoint_scores, atol=1e-6)


def test_fused_model_predicts_the_same(model, images):
    reference = build_model(DEMO)
    spread_scores(reference)
    with torch.no_grad():  # non-trivial BatchNorm statistics to fold
        generator = torch.Generator().manual_seed(1)
        for module in reference.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.running_mean.uniform_(-0.2, 0.2, generator=generator)
                module.running_var.uniform_(0.5, 2.0, generator=generator)
    fused = fuse_for_deploy(reference)
    assert not hasattr(fused.head.head_module, 'out_kpt_reg')
    assert not hasattr(fused.head.dcc, 'sigma_fc')
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in fused.modules())
    tensor = to_tensor(images[0])
    with torch.no_grad():
        dets, kpts = RTMOExportWrapper(reference)(tensor)
        fused_dets, fused_kpts = RTMOExportWrapper(fused)(tensor)
    assert dets.shape == fused_dets.shape and dets[0, 0, 4] > 0
    torch.testing.assert_close(fused_dets, dets, atol=1e-3, rtol=0)
    torch.testing.assert_close(fused_kpts, kpts, atol=1e-3, rtol=0)


@pytest.mark.slow
def test_runner_imports_no_training_stack(onnx_file, coco_mini, tmp_path):
    """Inference (library, image and video CLI) runs on numpy, OpenCV and onnxruntime only."""
    image = sorted(coco_mini.glob('*.jpg'))[0]
    frame = cv2.resize(cv2.imread(str(image)), (192, 128))
    video = cv2.VideoWriter(str(tmp_path / 'clip.avi'), cv2.VideoWriter_fourcc(*'MJPG'), 5,
                            (192, 128))
    for _ in range(3):
        video.write(frame)
    video.release()
    code = (
        'import sys, cv2, rtmo_ort\n'
        f'poses = rtmo_ort.RTMO({str(onnx_file)!r})(cv2.imread({str(image)!r}))\n'
        'from rtmo_ort.__main__ import main\n'
        f'main([{str(onnx_file)!r}, {str(image)!r}, "--out-dir", {str(tmp_path)!r}])\n'
        f'main([{str(onnx_file)!r}, "clip.avi", "--out-dir", {str(tmp_path)!r}])\n'
        'print(" ".join(sorted({m.split(".")[0] for m in sys.modules})))\n')
    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get('PYTHONPATH', '')]))
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         check=True, cwd=tmp_path, env=env).stdout
    loaded = set(out.split('\n')[-2].split())
    assert 'onnxruntime' in loaded and 'rtmo_ort' in loaded
    assert not loaded & {'mmcv', 'mmengine', 'mmpose', 'mmdet', 'torch', 'rtmo_plugin'}
    assert (tmp_path / (image.stem + '.jpg')).is_file()
    assert 'clip.avi: 3 frames' in out
    assert cv2.VideoCapture(str(tmp_path / 'clip.mp4')).read()[0]


@pytest.mark.parametrize('module, command', [
    ('rtmo_plugin.deploy', ['export']), ('rtmo_plugin.deploy', ['bench']),
    ('rtmo_plugin.deploy', ['eval']), ('rtmo_ort', [])])
def test_cli_help(module, command):
    out = subprocess.run([sys.executable, '-m', module, *command, '--help'],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith('usage: python -m ' + module)


def test_export_rejects_bad_sizes(model, tmp_path):
    with pytest.raises(ValueError, match='multiple of 32'):
        export_onnx(model, tmp_path / 'x.onnx', input_size=(150, 160))
    with pytest.raises(FileNotFoundError, match='random weights'):
        build_model(DEMO, tmp_path / 'missing.pth')


def test_static_int8_quantises_features_and_keeps_the_head_float(onnx_file, images, tmp_path):
    import onnx

    from rtmo_plugin.deploy.backends import calibration_inputs
    from rtmo_plugin.deploy.quantize import quantize_static_int8

    path = quantize_static_int8(onnx_file, tmp_path / 'int8.onnx',
                                calibration_inputs(images, SIZE))
    graph = onnx.load(str(path)).graph
    producers = {out: node.op_type for node in graph.node for out in node.output}
    weights = {node.name: producers.get(node.input[1], 'initializer') for node in graph.node
               if node.op_type in ('Conv', 'MatMul', 'Gemm')}
    backbone = [kind for name, kind in weights.items() if name.startswith('/backbone/')]
    assert backbone and all(kind == 'DequantizeLinear' for kind in backbone)
    # the head's output convs and the DCC's products with a weight (not those of two
    # activations): 2 levels x 4 convs, pose_to_kpts, x/y_fc weights and biases
    head_out = {name: kind for name, kind in weights.items()
                if name.startswith(('/head_module/out_', '/dcc/'))
                and kind in ('initializer', 'DequantizeLinear')}
    assert len(head_out) >= 2 * 4 + 5 and set(head_out.values()) == {'initializer'}, head_out
    dets, keypoints = RTMO(path).inference(to_tensor(images[0]).numpy())
    assert dets.shape[1] == keypoints.shape[1] >= 1


def test_keypoint_ap_is_one_for_the_ground_truth(coco_mini, model):
    import json

    from rtmo_plugin.lab.deploy_eval import keypoint_ap, keypoint_sigmas

    ann_file = coco_mini / 'person_keypoints.json'
    people = [a for a in json.loads(ann_file.read_text())['annotations']
              if a['num_keypoints'] > 0 and not a['iscrowd']]
    results = [dict(image_id=a['image_id'], category_id=1, score=1.0,
                    keypoints=[float(v) for v in a['keypoints']]) for a in people]
    assert keypoint_ap(ann_file, results, keypoint_sigmas(model))['AP'] == 1.0
    shifted = [dict(r, keypoints=[v + 20.0 * (i % 3 != 2) for i, v in enumerate(r['keypoints'])])
               for r in results]
    assert keypoint_ap(ann_file, shifted, keypoint_sigmas(model))['AP'] < 0.9


# what is checked: nothing good overwritten ----------------------------------------------


@pytest.fixture
def old_model_file(tmp_path):
    """A previous export that must survive a failed one."""
    path = tmp_path / 'rtmo.onnx'
    path.write_bytes(b'the good model of yesterday' * 100)
    return path


def test_a_failed_export_leaves_the_old_file_intact(model, old_model_file, monkeypatch):
    """The disk fills half way through the write: the old file keeps every byte and no
    temporary file is left beside it."""
    import errno

    before = old_model_file.read_bytes()

    def full_disk(wrapper, args, f, **kwargs):
        with open(f, 'wb') as out:
            out.write(b'\x08\x07' * 1000)  # half a graph
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(torch.onnx, 'export', full_disk)
    with pytest.raises(OSError, match='No space left on device.*unchanged'):
        export_onnx(model, old_model_file)
    assert old_model_file.read_bytes() == before
    assert [p.name for p in old_model_file.parent.iterdir()] == ['rtmo.onnx']


def test_an_export_that_does_not_verify_replaces_nothing(model, old_model_file, monkeypatch):
    """The exporter returns without error but what it wrote is not a whole graph."""
    from rtmo_plugin.deploy.export import ExportVerificationError

    before = old_model_file.read_bytes()
    real_export = torch.onnx.export

    def truncating(wrapper, args, f, **kwargs):
        real_export(wrapper, args, f, **kwargs)
        with open(f, 'r+b') as out:
            out.truncate(os.path.getsize(f) // 2)

    monkeypatch.setattr(torch.onnx, 'export', truncating)
    with pytest.raises(ExportVerificationError, match=f'{old_model_file} not written: the '
                       'graph does not load .*unchanged'):
        export_onnx(model, old_model_file)
    assert old_model_file.read_bytes() == before
    assert [p.name for p in old_model_file.parent.iterdir()] == ['rtmo.onnx']


def test_a_complete_export_replaces_the_old_file(onnx_file):
    assert [p.name for p in onnx_file.parent.iterdir()] == ['rtmo.onnx']  # nothing left over
    assert RTMO(onnx_file).input_size == SIZE


# what is checked: values where they enter --------------------------------------------


@pytest.mark.parametrize('args, flag', [
    (['export', str(DEMO), '--score-thr', '2'], '--score-thr'),
    (['export', str(DEMO), '--score-thr', '-0.1'], '--score-thr'),
    (['export', str(DEMO), '--score-thr', 'nan'], '--score-thr'),
    (['export', str(DEMO), '--nms-thr', '0'], '--nms-thr'),
    (['export', str(DEMO), '--nms-thr', '1.5'], '--nms-thr'),
    (['export', str(DEMO), '--input-size', '100', '128'], '--input-size'),
    (['export', str(DEMO), '--input-size', '0', '128'], '--input-size'),
    (['bench', str(DEMO), '--images', 'a.jpg', '--repeats', '0'], '--repeats'),
    (['bench', str(DEMO), '--images', 'a.jpg', '--threads', '0'], '--threads'),
    (['export', str(DEMO), '--opset', '10'], '--opset'),  # no NonMaxSuppression before 11
    (['export', str(DEMO), '--opset', '99'], '--opset'),
])
def test_deploy_refuses_bad_values_before_building(args, flag, monkeypatch, capsys):
    from rtmo_plugin.deploy import export
    from rtmo_plugin.deploy.__main__ import main

    def no_build(*args, **kwargs):
        raise AssertionError('a model was built for a refused value')

    monkeypatch.setattr(export, 'build_model', no_build)  # the CLI builds through it
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    assert f'argument {flag}' in capsys.readouterr().err


def test_bench_checks_its_images_before_building_the_model(tmp_path, monkeypatch, capsys):
    from rtmo_plugin.deploy import __main__ as cli

    monkeypatch.setattr(cli, 'build_model', lambda *a, **k: pytest.fail('built a model'),
                        raising=False)
    monkeypatch.setattr('rtmo_plugin.deploy.export.build_model',
                        lambda *a, **k: pytest.fail('built a model'))
    missing = tmp_path / 'missing.jpg'
    assert cli.main(['bench', str(DEMO), '--images', str(missing)]) == 1
    err = capsys.readouterr().err
    assert str(missing) in err and len(err.strip().splitlines()) == 1, err


def test_deploy_errors_are_one_line(images, tmp_path, capsys):
    """A missing checkpoint, a truncated image: one ``error:`` line, exit 1, no traceback."""
    from rtmo_plugin.deploy.__main__ import main

    cut = truncated_jpeg(tmp_path / 'cut.jpg', images[0])
    assert main(['export', str(DEMO), str(tmp_path / 'missing.pth')]) == 1
    assert main(['bench', str(DEMO), '--images', str(cut), '--repeats', '1']) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and 'missing.pth not found' in err[0]
    assert err[1] == f'error: {cut}: truncated JPEG (the file ends before its end-of-image marker)'


def test_library_refuses_bad_thresholds_and_repeats(model, onnx_file, tmp_path):
    from rtmo_ort import postprocess
    from rtmo_plugin.lab.deploy_bench import latency_rows

    with pytest.raises(ValueError, match='score_thr=2.0 must be in'):
        RTMOExportWrapper(model, score_thr=2.0)
    with pytest.raises(ValueError, match='score_thr=-1 must be in'):
        RTMO(onnx_file, score_thr=-1)
    # the graph's placeholder row (nobody found) is all zeros: score_thr=-1 would keep it
    with pytest.raises(ValueError, match='score_thr=-1'):
        postprocess(np.zeros((1, 1, 5)), np.zeros((1, 1, 17, 3)), 1.0, -1)
    with pytest.raises(ValueError, match='repeats=0'):
        latency_rows(model, [np.zeros((8, 8, 3), np.uint8)], repeats=0)


@pytest.mark.parametrize('args, flag', [
    (['--score-thr', '-1'], '--score-thr'), (['--score-thr', '1.5'], '--score-thr'),
    (['--kpt-thr', '2'], '--kpt-thr'), (['--threads', '-1'], '--threads')])
def test_rtmo_ort_refuses_bad_values(onnx_file, tmp_path, args, flag, capsys):
    from rtmo_ort.__main__ import main

    photo = tmp_path / 'a.jpg'
    cv2.imwrite(str(photo), np.full((32, 32, 3), 128, np.uint8))
    with pytest.raises(SystemExit) as exit_info:
        main([str(onnx_file), str(photo), '--out-dir', str(tmp_path / 'out'), *args])
    assert exit_info.value.code == 2 and f'argument {flag}' in capsys.readouterr().err
    assert not (tmp_path / 'out').exists()


def truncated_jpeg(path: Path, source: np.ndarray) -> Path:
    """The first 60% of a real JPEG (OpenCV still decodes it, with grey rows)."""
    data = cv2.imencode('.jpg', source)[1].tobytes()
    path.write_bytes(data[:len(data) * 6 // 10])
    assert cv2.imread(str(path)) is not None  # what made it pass as a good image
    return path


def test_image_files_are_checked(images, tmp_path):
    from rtmo_ort import ImageFileError, read_image

    jpeg = truncated_jpeg(tmp_path / 'cut.jpg', images[0])
    png = tmp_path / 'cut.png'
    data = cv2.imencode('.png', images[0])[1].tobytes()
    png.write_bytes(data[:len(data) // 2])
    fifo = tmp_path / 'pipe.jpg'
    os.mkfifo(fifo)
    for path, reason in [(jpeg, 'truncated JPEG'), (png, 'truncated PNG'),
                         (fifo, 'not a regular file'), (tmp_path, 'not a regular file'),
                         (tmp_path / 'gone.jpg', 'no such file')]:
        with pytest.raises(ImageFileError, match=reason) as error:
            read_image(path)  # a FIFO without a writer must not block
        assert str(error.value).startswith(str(path))
    good = tmp_path / 'good.jpg'
    cv2.imwrite(str(good), images[0])
    np.testing.assert_array_equal(read_image(good), cv2.imread(str(good)))


def test_a_strip_image_is_letterboxed(onnx_file):
    strip = np.full((1, 4000, 3), 90, np.uint8)
    tensor, ratio = to_input(strip, SIZE)
    assert tensor.shape == (1, 3, 128, 128) and ratio == pytest.approx(128 / 4000)
    assert (tensor[0, :, 0] == 90).all() and (tensor[0, :, 1:] == 114).all()
    RTMO(onnx_file)(strip)  # and the graph runs on it


def test_rtmo_ort_reports_each_bad_file_and_processes_the_rest(onnx_file, images, tmp_path,
                                                              capsys):
    from rtmo_ort.__main__ import main

    cut = truncated_jpeg(tmp_path / 'cut.jpg', images[0])
    fifo = tmp_path / 'pipe.jpg'
    os.mkfifo(fifo)  # opening it to read would wait for a writer forever
    strip = tmp_path / 'strip.png'
    cv2.imwrite(str(strip), np.full((1, 4000, 3), 90, np.uint8))
    good = tmp_path / 'good.jpg'
    cv2.imwrite(str(good), images[0])
    folder = tmp_path / 'folder'
    folder.mkdir()
    os.mkfifo(folder / 'other.jpg')
    out = tmp_path / 'out'
    code = main([str(onnx_file), str(cut), str(fifo), str(strip), str(good), str(folder),
                 '--out-dir', str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert f'error: {cut}: truncated JPEG' in err
    assert f'error: {fifo}: not a regular file' in err
    assert f'error: {folder / "other.jpg"}: not a regular file' in err
    assert '3 of 5 inputs failed' in err and 'Traceback' not in err
    assert sorted(p.name for p in out.iterdir()) == ['good.jpg', 'strip.jpg']
    assert cv2.imread(str(out / 'strip.jpg')).shape == (1, 4000, 3)
    from rtmo_ort import new_file_mode  # as cv2.imwrite would, not a temporary file's 0600
    assert (out / 'good.jpg').stat().st_mode & 0o777 == new_file_mode()


REAL_VIDEO_WRITER = cv2.VideoWriter


class DroppingVideoWriter:
    """cv2.VideoWriter on a full disk: opens, takes every frame, keeps only the first."""

    def __init__(self, *args):
        self.writer, self.frames = REAL_VIDEO_WRITER(*args), 0

    def isOpened(self):
        return self.writer.isOpened()

    def write(self, frame):
        self.frames += 1
        if self.frames == 1:
            self.writer.write(frame)

    def release(self):
        self.writer.release()


def clip(path: Path, frame: np.ndarray, frames: int = 3) -> Path:
    video = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 5,
                            (frame.shape[1], frame.shape[0]))
    for _ in range(frames):
        video.write(frame)
    video.release()
    return path


def test_a_video_written_short_is_a_failure(onnx_file, images, tmp_path, monkeypatch, capsys):
    import rtmo_ort.__main__ as cli

    video = clip(tmp_path / 'clip.avi', cv2.resize(images[0], (192, 128)))
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'clip.mp4').write_bytes(b'last week\'s good video')
    monkeypatch.setattr(cli.cv2, 'VideoWriter', DroppingVideoWriter)
    assert cli.main([str(onnx_file), str(video), '--out-dir', str(out)]) == 1
    captured = capsys.readouterr()
    assert 'reads back with 1 of 3 frames' in captured.err and 'frames, ' not in captured.out
    assert [p.name for p in out.iterdir()] == ['clip.mp4']
    assert (out / 'clip.mp4').read_bytes() == b'last week\'s good video'


@pytest.mark.slow
def test_rtmo_ort_on_a_full_disk_fails_and_keeps_the_old_outputs(onnx_file, tmp_path):
    """``python -m rtmo_ort`` where no file may grow past 16 KB (RLIMIT_FSIZE: writes fail
    as on a full disk): each output is an error, and last run's outputs keep their bytes."""
    import resource
    import signal

    noise = np.random.default_rng(0).integers(0, 256, (128, 192, 3), np.uint8)
    cv2.imwrite(str(tmp_path / 'photo.png'), noise)
    clip(tmp_path / 'clip.avi', noise)
    out = tmp_path / 'out'
    out.mkdir()
    old = {'photo.jpg': b'last week\'s photo', 'clip.mp4': b'last week\'s video'}
    for name, data in old.items():
        (out / name).write_bytes(data)

    def full_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (16384, 16384))

    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get('PYTHONPATH', '')]))
    done = subprocess.run([sys.executable, '-m', 'rtmo_ort', str(onnx_file), 'photo.png',
                           'clip.avi', '--out-dir', 'out'], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, preexec_fn=full_disk)
    assert done.returncode == 1, done.stdout + done.stderr
    assert 'error: photo.png: cannot write out/photo.jpg' in done.stderr
    assert 'error: clip.avi: cannot write out/clip.mp4' in done.stderr
    assert '2 of 2 inputs failed' in done.stderr and '->' not in done.stdout
    assert {p.name: p.read_bytes() for p in out.iterdir()} == old


@pytest.mark.parametrize('content, why', [
    ('{"images": [{"id": 1, "file_na', 'is not valid JSON (Unterminated string'),
    ('', 'is not valid JSON (Expecting value'),
    ('[1, 2]', 'is not a COCO annotation file: it needs a top-level object with an "images" '
     'list'),
    ('{"annotations": []}', 'is not a COCO annotation file'),
    ('{"images": []}', 'lists no images: nothing to evaluate'),
    ('{"images": [{"id": 1}]}', 'images[0] needs an integer "id" and a "file_name" string'),
])
def test_eval_names_a_bad_annotation_file(tmp_path, capsys, monkeypatch, content, why):
    """Before: the JSON error without the file, or a KeyError / TypeError traceback."""
    from rtmo_plugin.deploy import export
    from rtmo_plugin.deploy.__main__ import main

    monkeypatch.setattr(export, 'build_model', lambda *a, **k: pytest.fail('built a model'))
    ann_file = tmp_path / 'annotations' / 'person_keypoints_val.json'
    ann_file.parent.mkdir()
    ann_file.write_text(content)
    assert main(['eval', str(DEMO), '--data-root', str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f'error: {ann_file}') and why in err[0], err


def test_eval_json_output_is_checked_before_evaluating(tmp_path, capsys, monkeypatch):
    """A folder given as --json, or a path under a file, fails before the (minutes-long)
    evaluation, naming the path given; a missing folder is made."""
    from rtmo_plugin.deploy import __main__ as cli

    monkeypatch.setattr('rtmo_plugin.lab.deploy_eval.evaluate_paths',
                        lambda *a, **k: pytest.fail('evaluated before checking --json'))
    (tmp_path / 'a_file').write_text('x')
    for bad, why in ((tmp_path, 'Is a directory'), (tmp_path / 'a_file' / 'r.json', '')):
        assert cli.main(['eval', str(DEMO), '--data-root', str(tmp_path), '--json',
                         str(bad)]) == 1
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and err[0].startswith('error: [Errno') and \
            f'cannot write {bad} ({why}' in err[0], err
    cli.write_json(str(tmp_path / 'new' / 'sub' / 'r.json'), {'AP': 1.0})
    assert json.loads((tmp_path / 'new' / 'sub' / 'r.json').read_text()) == {'AP': 1.0}
    from rtmo_ort import new_file_mode  # the umask's mode, not a temporary file's 0600
    assert (tmp_path / 'new' / 'sub' / 'r.json').stat().st_mode & 0o777 == new_file_mode()
    assert [p.name for p in (tmp_path / 'new' / 'sub').iterdir()] == ['r.json']


def test_a_checkpoint_that_does_not_fit_is_one_line_without_an_opt_in(model, tmp_path, capsys):
    """The library's ``partial=True`` advice named an option the deploy commands do not have
    (and a partly random model is nothing to deploy): the CLI names the keys and the cause."""
    from rtmo_plugin.deploy.__main__ import main

    state = {k: v[:14] if k.startswith('head.head_module.out_kpt_vis') else v
             for k, v in model.state_dict().items()}
    other = tmp_path / 'crowdpose.pth'
    torch.save({'state_dict': state}, other)
    assert main(['export', str(DEMO), str(other), '-o', str(tmp_path / 'x.onnx')]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f'error: {other} does not fit the model of the '
                                               'config: ') and 'partial' not in err[0], err
    assert 'likely a checkpoint of another keypoint set' in err[0]
    assert not (tmp_path / 'x.onnx').exists()


def test_export_refuses_a_model_without_an_rtmo_head(tmp_path):
    """A top-down config (RTMPose) was told to pass --input-size, then failed in the trace."""
    top_down = nn.Module()
    top_down.head = nn.Identity()
    with pytest.raises(ValueError, match='the model has a Identity head, not RTMOPoseHead'):
        export_onnx(top_down, tmp_path / 'x.onnx', input_size=(192, 256))
    assert list(tmp_path.iterdir()) == []


def test_rtmo_ort_never_draws_over_its_inputs(onnx_file, images, tmp_path, capsys,
                                              monkeypatch):
    """``--out-dir`` the photos' own folder replaced each JPEG with its drawing (exit 0)."""
    from rtmo_ort.__main__ import main

    photos = tmp_path / 'photos'
    photos.mkdir()
    cv2.imwrite(str(photos / 'a.jpg'), images[0])
    cv2.imwrite(str(photos / 'b.png'), images[1])
    before = {p.name: p.read_bytes() for p in photos.iterdir()}
    monkeypatch.chdir(photos)
    code = main([str(onnx_file), 'a.jpg', 'b.png', '--out-dir', '.'])
    err = capsys.readouterr().err
    assert code == 1 and 'error: a.jpg: its drawing a.jpg would replace an input file; give ' \
        'another --out-dir' in err and '1 of 2 inputs failed' in err, err
    assert (photos / 'a.jpg').read_bytes() == before['a.jpg']  # untouched
    assert (photos / 'b.png').read_bytes() == before['b.png']
    assert cv2.imread(str(photos / 'b.jpg')).shape == images[1].shape  # b.png's drawing


def test_export_never_writes_over_its_checkpoint(tmp_path, capsys, monkeypatch):
    """``-o`` given the checkpoint (a slip of the shell history) replaced it with the graph."""
    from rtmo_plugin.deploy import export
    from rtmo_plugin.deploy.__main__ import main

    monkeypatch.setattr(export, 'build_model', lambda *a, **k: pytest.fail('built a model'))
    checkpoint = tmp_path / 'epoch_44.pth'
    checkpoint.write_bytes(b'weights')
    monkeypatch.chdir(tmp_path)
    assert main(['export', str(DEMO), 'epoch_44.pth', '-o', str(checkpoint)]) == 1
    assert capsys.readouterr().err.strip() == (
        f'error: -o {checkpoint} is the input file epoch_44.pth: writing the graph there '
        'would replace it; give another -o')
    assert checkpoint.read_bytes() == b'weights'


def test_the_input_size_is_read_once_and_reaches_every_path(model, tmp_path, monkeypatch):
    """build_backends reads test_cfg.input_size once and hands it to the exporter and to the
    torch path (they re-derived it each before); a size given overrides the model's."""
    from rtmo_plugin.deploy import backends

    reads, exported = [], []
    real_size, real_export = backends.input_size_of, backends.export_onnx
    monkeypatch.setattr(backends, 'input_size_of', lambda m: reads.append(m) or real_size(m))
    monkeypatch.setattr(backends, 'export_onnx', lambda m, path, input_size=None: exported.append(
        input_size) or real_export(m, path, input_size=input_size))
    paths = backends.build_backends(model, tmp_path, [], ('ort_fp32', 'torch_fused_bf16'))
    assert len(reads) == 1 and exported == [SIZE]
    assert paths['torch_fused_bf16'].input_size == SIZE == paths['ort_fp32'].input_size
    paths = backends.build_backends(model, tmp_path, [], ('torch_fused_bf16',),
                                    input_size=(96, 64))
    assert len(reads) == 1 and paths['torch_fused_bf16'].input_size == (96, 64)
