"""The synthetic H3WB-format generator: geometry, MMPose's H36MWholeBodyDataset reads it
unchanged, its COCO-WholeBody twin reads in CocoWholeBodyDataset, and it is deterministic."""
import json

import numpy as np
import pytest
from mmpose.datasets import CocoWholeBodyDataset, H36MWholeBodyDataset
from rtmw3d_fixtures import write_h3wb

from projects.rtmw3d.rtmw3d import synthetic_wholebody as wb


@pytest.fixture(scope='module')
def h3wb_root(tmp_path_factory):
    return write_h3wb(tmp_path_factory.mktemp('h3wb'), train_poses=3, val_poses=1, size=128)


def test_figure_has_133_points_in_metres_with_hands_at_the_wrists():
    points = wb.random_pose_3d(np.random.default_rng(0), height=1.75)
    assert points.shape == (133, 3)
    assert np.allclose(wb.root_of(points), 0, atol=1e-9)
    assert 1.4 < points[:, 1].max() - points[:, 1].min() < 2.0  # about a person's height
    assert np.allclose(points[91], points[9]) and np.allclose(points[112], points[10])
    assert np.abs(points[:, 2]).max() > 0.05  # it has depth


def test_cameras_are_h36m_like_and_see_the_figure():
    cameras = wb.h36m_cameras(256)
    assert [c.name for c in cameras] == ['54138969', '55011271', '58860488', '60457274']
    assert cameras[0].f[0] == pytest.approx(1145.04940459 * 0.256)
    world = wb.place(wb.random_pose_3d(np.random.default_rng(1)), 0.0, (0.0, 0.0))
    assert world[:, 2].min() == pytest.approx(0.0)  # standing on the floor
    for camera in cameras:
        assert np.allclose(camera.R @ camera.R.T, np.eye(3), atol=1e-9)
        points = camera.to_camera(world)
        assert 4.0 < wb.root_of(points)[2] < 6.0  # near RTMW3D's 5.14 m mean root depth
        pixels = camera.project(points)
        assert ((pixels > 0) & (pixels < 256)).all()


def test_h36m_wholebody_dataset_reads_it(h3wb_root):
    train = H36MWholeBodyDataset(ann_file='annotation_body3d/h3wb_train_bbox.npz',
                                 data_root=str(h3wb_root) + '/', seq_len=1, causal=True,
                                 test_mode=False, pipeline=[])
    val = H36MWholeBodyDataset(ann_file='annotation_body3d/h3wb_train_bbox.npz',
                               data_root=str(h3wb_root) + '/', seq_len=1, causal=True,
                               test_mode=True, pipeline=[])
    assert len(train) == 3 * 4 and len(val) == 1 * 4  # poses x 4 cameras
    info = train.get_data_info(0)
    assert info['keypoints'].shape == (1, 133, 2) and info['keypoints_3d'].shape == (1, 133, 3)
    assert (h3wb_root / info['img_path']).is_file() or info['img_path'].endswith('.jpg')
    camera = info['camera_param'][0]
    projected = info['keypoints_3d'][0, :, :2] / info['keypoints_3d'][0, :, 2:] * camera['f'] \
        + camera['c']
    assert np.abs(projected - info['keypoints'][0]).max() < 0.05  # pixels = f X / Z + c
    assert 3.5 < info['keypoints_3d'][0, :, 2].mean() < 7.0  # metres
    x0, y0, x1, y1 = info['bbox'][0]
    assert (info['keypoints'][0] >= [x0, y0]).all() and (info['keypoints'][0] <= [x1, y1]).all()


def test_coco_wholebody_twin_reads_in_mmpose(h3wb_root):
    dataset = CocoWholeBodyDataset(ann_file='annotations/coco_wholebody_train.json',
                                   data_root=str(h3wb_root) + '/', data_prefix=dict(img=''),
                                   pipeline=[])
    assert len(dataset) == 12
    info = dataset.get_data_info(0)
    assert info['keypoints'].shape == (1, 133, 2)
    npz = np.load(h3wb_root / 'annotation_body3d/h3wb_train_bbox.npz', allow_pickle=True)
    first = npz['train_data'].item()['S1']['Directions']['54138969']['pose_2d'][0]
    assert np.abs(info['keypoints'][0] - first).max() < 0.01
    ann = json.loads((h3wb_root / 'annotations/coco_wholebody_train.json').read_text())
    assert {'face_box', 'lefthand_valid', 'foot_kpts'} <= set(ann['annotations'][0])


def test_generator_is_deterministic(tmp_path):
    a = write_h3wb(tmp_path / 'a', train_poses=1, val_poses=1, size=64)
    b = write_h3wb(tmp_path / 'b', train_poses=1, val_poses=1, size=64)
    image = 'original/S1/Images/Directions.54138969/frame_1.jpg'
    assert (a / image).read_bytes() == (b / image).read_bytes()
