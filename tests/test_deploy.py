"""ONNX export, the onnxruntime runner and the deploy-time model (rtmo_plugin.deploy, rtmo_ort)."""
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
    return export_onnx(model, tmp_path_factory.mktemp('onnx') / 'rtmo.onnx')


@pytest.fixture(scope='module')
def images(coco_mini):
    return [cv2.imread(str(p)) for p in sorted(coco_mini.glob('*.jpg'))[:2]]


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """The graph's input of a BGR image (rtmo_ort's letterbox, the one preprocessing)."""
    return torch.from_numpy(to_input(image, SIZE)[0])


def eager_predict(model, tensor: torch.Tensor) -> InstanceData:
    """The plugin's own ``RTMOPoseHead.predict`` on an input tensor (input pixels)."""
    sample = InstanceData(metainfo=dict(input_size=SIZE))
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

    from rtmo_plugin.deploy.evaluate import keypoint_ap, keypoint_sigmas

    ann_file = coco_mini / 'person_keypoints.json'
    people = [a for a in json.loads(ann_file.read_text())['annotations']
              if a['num_keypoints'] > 0 and not a['iscrowd']]
    results = [dict(image_id=a['image_id'], category_id=1, score=1.0,
                    keypoints=[float(v) for v in a['keypoints']]) for a in people]
    assert keypoint_ap(ann_file, results, keypoint_sigmas(model))['AP'] == 1.0
    shifted = [dict(r, keypoints=[v + 20.0 * (i % 3 != 2) for i, v in enumerate(r['keypoints'])])
               for r in results]
    assert keypoint_ap(ann_file, shifted, keypoint_sigmas(model))['AP'] < 0.9
