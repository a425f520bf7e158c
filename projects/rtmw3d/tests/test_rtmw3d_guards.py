"""The project's guards: the H3WB annotation file cannot run code, malformed fields and bad
images are named before training, a checkpoint with another z-bin count is refused, a
non-finite loss skips its step, and the generator leaves no partial dataset."""
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmpose.datasets import H36MWholeBodyDataset
from rtmw3d_fixtures import CONFIGS, REPO, h3wb_loaders, runner_config, write_h3wb

from projects.rtmw3d.rtmw3d import CheckedH3WBDataset, h3wb
from projects.rtmw3d.rtmw3d.dataset import AnnotationFileError, read_plain_npz
from rtmo_plugin.checkpoint import CheckpointMismatchError
from rtmo_plugin.data_checks import DataCheckError

ANN = h3wb.ANN_FILE
TINY = CONFIGS / 'rtmw3d-tiny_1xb16-32e_synthetic-128x96.py'


class FileCreatingPayload:
    """Unpickling it creates a file (as a hostile annotation file would run code)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return open, (self.path, 'w')


@pytest.fixture(scope='module')
def h3wb_root(tmp_path_factory):
    return write_h3wb(tmp_path_factory.mktemp('h3wb_guards') / 'data', train_poses=1,
                      val_poses=1, size=64)


def copy_of(root, tmp_path):
    target = tmp_path / 'data'
    shutil.copytree(root, target)
    return target


def dataset(root, **kwargs):
    return CheckedH3WBDataset(ann_file=ANN, data_root=str(root) + '/', seq_len=1, causal=True,
                              test_mode=False, pipeline=[], **kwargs)


def rewrite(root, change):
    """Rewrites the npz with ``change(entries)`` applied to its (plain) entries."""
    path = root / ANN
    entries = {k: v.item() for k, v in read_plain_npz(str(path)).items()}
    change(entries)
    np.savez(path, **{k: np.array(v, dtype=object) for k, v in entries.items()})


def test_the_checked_dataset_reads_what_mmposes_reads(h3wb_root):
    ours = dataset(h3wb_root)
    theirs = H36MWholeBodyDataset(ann_file=ANN, data_root=str(h3wb_root) + '/', seq_len=1,
                                  causal=True, test_mode=False, pipeline=[])
    assert len(ours) == len(theirs) == 4
    for a, b in zip(ours.data_list, theirs.data_list):
        assert a['img_path'] == b['img_path']
        assert np.array_equal(a['keypoints_3d'], b['keypoints_3d'])
        assert a['camera_param'][0]['f'] == b['camera_param'][0]['f']


def test_a_pickled_payload_in_the_annotation_file_does_not_run(h3wb_root, tmp_path):
    root = copy_of(h3wb_root, tmp_path)
    marker = tmp_path / 'payload_ran'
    entries = np.load(root / ANN, allow_pickle=True)
    np.savez(root / ANN, train_data=np.array(FileCreatingPayload(str(marker)), dtype=object),
             metadata=entries['metadata'], bbox=entries['bbox'])
    with pytest.raises(AnnotationFileError, match=r'h3wb_train_bbox\.npz: refused: it asks to '
                                                   r'build (io|builtins)\.open'):
        dataset(root)
    assert not marker.exists()
    # the same file read as MMPose's H36MWholeBodyDataset reads it runs the payload
    np.load(root / ANN, allow_pickle=True)['train_data']
    assert marker.exists()


def test_a_file_that_is_not_an_npz_is_named(tmp_path):
    (tmp_path / 'annotation_body3d').mkdir()
    (tmp_path / ANN).write_bytes(b'not a zip archive')
    with pytest.raises(AnnotationFileError, match=r'h3wb_train_bbox\.npz: not an \.npz'):
        dataset(tmp_path)


def string_coords(entries):
    view = entries['train_data']['S1']['Directions']['54138969']
    view['pose_2d'] = view['pose_2d'].astype(str)


def no_metadata(entries):
    del entries['metadata']


def zero_focal(entries):
    entries['metadata']['S1']['55011271']['K'] = np.zeros((1, 3, 3))


def nan_depth(entries):
    entries['train_data']['S1']['Directions']['58860488']['camera_3d'][0, 7, 2] = np.nan


def flat_box(entries):
    key = next(k for k in entries['bbox'] if k[2] == '60457274' and k[0] == 'S1')
    entries['bbox'][key]['x_max'] = entries['bbox'][key]['x_min']


@pytest.mark.parametrize('change, message', [
    (string_coords, r"subject S1, action Directions, camera 54138969: field 'pose_2d' is not "
                    r'a numeric array \(dtype <U'),
    (no_metadata, r"no \['metadata'\] entry"),
    (zero_focal, r"subject S1, camera 55011271: field 'K' has focal length \(0\.0, 0\.0\)"),
    (nan_depth, r"subject S1, action Directions, camera 58860488: field 'camera_3d' has 1 "
                r'non-finite values \(first at index \(0, 7, 2\)\)'),
    (flat_box, r"camera 60457274, frame 1: field 'bbox'"),
])
def test_malformed_fields_name_the_file_the_example_and_the_field(h3wb_root, tmp_path, change,
                                                                  message):
    root = copy_of(h3wb_root, tmp_path)
    rewrite(root, change)
    with pytest.raises(AnnotationFileError, match=r'h3wb_train_bbox\.npz') as error:
        dataset(root)
    assert error.match(message)


def test_missing_and_truncated_images_are_named_before_training(h3wb_root, tmp_path):
    root = copy_of(h3wb_root, tmp_path)
    images = sorted((root / 'original' / 'S1').rglob('*.jpg'))
    images[0].unlink()
    data = images[1].read_bytes()
    images[1].write_bytes(data[:len(data) // 2])
    with pytest.raises(DataCheckError, match='2 of 4 images') as error:
        dataset(root)
    assert error.match(re.escape(f'{images[0]}: missing'))
    assert error.match(re.escape(f'{images[1]}: truncated JPEG'))
    assert len(dataset(root, scan_images=False)) == 4  # the scan is what finds them


def tiny_runner(root, tmp_path, **cfg_options) -> Runner:
    cfg = Config.fromfile(str(TINY))
    h3wb_loaders(cfg, root, batch_size=2, num_train=2, num_test=1)
    cfg.merge_from_dict(cfg_options)
    return Runner.from_cfg(runner_config(cfg, tmp_path / 'work'))


def test_published_and_tiny_configs_carry_the_guards():
    for path in sorted(CONFIGS.glob('rtmw3d-*.py')):
        cfg = Config.fromfile(str(path))
        assert cfg.optim_wrapper.type == 'FiniteOptimWrapper', path.name
        assert cfg.default_hooks.keypoint_finetune.type == 'KeypointFinetuneHook', path.name
        assert cfg.default_hooks.non_finite.type == 'NonFiniteLossHook', path.name
        datasets = [cfg.train_dataloader.dataset, *cfg.train_dataloader.dataset.get(
            'datasets', [])]
        assert 'CheckedH3WBDataset' in [d.type for d in datasets], path.name


def test_a_checkpoint_with_another_z_bin_count_is_refused(h3wb_root, tmp_path):
    runner = tiny_runner(h3wb_root, tmp_path)
    state = {k: v.clone() for k, v in runner.model.state_dict().items()}
    assert state['head.cls_z.weight'].shape[0] == 193
    state['head.cls_z.weight'] = torch.randn(101, state['head.cls_z.weight'].shape[1])
    checkpoint = tmp_path / 'z101.pth'
    torch.save(dict(state_dict=state, meta=dict()), checkpoint)
    runner = tiny_runner(h3wb_root, tmp_path, load_from=str(checkpoint))
    with pytest.raises(CheckpointMismatchError, match=r'head\.cls_z\.weight checkpoint '
                                                      r'\[101, 128\] vs model \[193, 128\]'):
        runner.train()


def test_a_non_finite_loss_skips_its_step(h3wb_root, tmp_path):
    runner = tiny_runner(h3wb_root, tmp_path,
                         **{'model.head.axis_weights': (float('nan'), 1.0, 1.0)})
    snapshot = Snapshot()
    runner.register_hook(snapshot, priority='LOWEST')
    runner.train()
    assert runner.optim_wrapper.skipped_steps == 1
    for key, value in runner.model.state_dict().items():
        assert torch.equal(value, snapshot.state[key]), key


class Snapshot(Hook):
    """The model's state when training starts (after initialisation)."""

    def before_train(self, runner) -> None:
        self.state = {k: v.clone() for k, v in runner.model.state_dict().items()}


def test_the_generator_leaves_no_partial_dataset(tmp_path, monkeypatch):
    calls = []

    def fail_on_the_third(*args, **kwargs):  # as a full disk would, mid-way
        calls.append(args)
        if len(calls) == 3:
            return False
        return real_imwrite(*args, **kwargs)

    real_imwrite = h3wb.cv2.imwrite
    monkeypatch.setattr(h3wb.cv2, 'imwrite', fail_on_the_third)
    with pytest.raises(OSError, match='could not write .*frame_1.jpg'):
        h3wb.write(tmp_path / 'out', train_poses=1, val_poses=1, image_size=64)
    assert list(tmp_path.iterdir()) == []  # no out/, no temporary folder
    monkeypatch.undo()
    with pytest.raises(ValueError, match='over the cap'):
        h3wb.write(tmp_path / 'big', train_poses=1000, val_poses=10, image_size=256,
                   max_bytes=10 ** 6)
    ann = h3wb.write(tmp_path / 'out', train_poses=1, val_poses=1, image_size=64)
    assert ann.is_file() and sorted(p.name for p in tmp_path.iterdir()) == ['out']
    with pytest.raises(FileExistsError, match='not an empty folder'):
        h3wb.write(tmp_path / 'out', train_poses=1, val_poses=1, image_size=64)


@pytest.mark.slow  # a subprocess: the README's generator command as a user runs it
def test_the_generator_command_writes_the_dataset(tmp_path):
    cmd = [sys.executable, '-m', 'projects.rtmw3d.rtmw3d.h3wb', str(tmp_path / 'mine'),
           '--train-poses', '1', '--val-poses', '1', '--size', '64']
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / 'mine' / ANN).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ['mine']  # no temporary folder


def test_the_coco_wholebody_writer_stops_at_an_image_it_cannot_write(tmp_path, monkeypatch):
    from projects.rtmw3d.rtmw3d import synthetic_wholebody as wb
    monkeypatch.setattr(wb.cv2, 'imwrite', lambda *args, **kwargs: False)
    with pytest.raises(OSError, match=r'could not write .*000001\.jpg'):
        wb.write_coco_wholebody_split(tmp_path, 'train', 2, image_size=64)
    assert not (tmp_path / 'annotations').exists()  # no annotation file for missing images
