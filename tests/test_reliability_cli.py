"""The command lines: the onnxruntime runner processes every input and reports each failure;
the dataset generator refuses bad arguments and leaves nothing behind."""
import json
import os
import stat
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from rtmo_ort.__main__ import main as ort_main
from rtmo_ort.__main__ import output_names
from rtmo_plugin.synthetic import cli as synthetic
from rtmo_plugin.synthetic import main as generate


class FakeRTMO(nn.Module):
    """A graph with RTMO's I/O convention: one person per image, scored by the mean pixel."""

    def __init__(self):
        super().__init__()
        self.register_buffer('box', torch.tensor([[[4.0, 4.0, 40.0, 60.0]]]))
        self.register_buffer('kpts', torch.cat([torch.rand(1, 1, 17, 2) * 60,
                                                torch.ones(1, 1, 17, 1)], -1))

    def forward(self, x):
        score = x.mean().reshape(1, 1, 1) / 255
        return torch.cat([self.box, score], -1), self.kpts


@pytest.fixture(scope='module')
def onnx_model(tmp_path_factory):
    path = tmp_path_factory.mktemp('onnx') / 'fake.onnx'
    torch.onnx.export(FakeRTMO(), torch.zeros(1, 3, 64, 64), str(path), dynamo=False,
                      input_names=['input'], output_names=['dets', 'keypoints'])
    return path


def image(path: Path, value: int = 200) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((48, 64, 3), value, np.uint8))
    return path


def test_every_input_is_processed_and_each_failure_reported(onnx_model, tmp_path, capsys):
    a_jpg, a_png = image(tmp_path / 'a.jpg'), image(tmp_path / 'a.png', 50)
    broken = tmp_path / 'broken.jpg'
    broken.write_bytes(b'not a jpeg at all')
    last = image(tmp_path / 'z.jpg')
    out = tmp_path / 'out'
    code = ort_main([str(onnx_model), str(broken), str(tmp_path / 'gone.jpg'), str(a_jpg),
                     str(a_png), str(last), '--out-dir', str(out)])
    captured = capsys.readouterr()
    assert code == 1
    errors = [line for line in captured.err.splitlines() if line.startswith('error: ')]
    assert errors == [f'error: {tmp_path}/gone.jpg: no such file',
                      f'error: {broken}: OpenCV cannot decode it (not an image, or a corrupt '
                      'or unsupported one)']
    assert '2 of 5 inputs failed' in captured.err
    # the good files after the broken one were processed, a.jpg and a.png both kept
    assert sorted(p.name for p in out.iterdir()) == ['a_jpg.jpg', 'a_png.jpg', 'z.jpg']
    assert cv2.imread(str(out / 'a_jpg.jpg')).mean() != cv2.imread(str(out / 'a_png.jpg')).mean()


def test_all_good_inputs_exit_zero_and_directories_give_their_images(onnx_model, tmp_path,
                                                                    capsys):
    folder = tmp_path / 'photos'
    image(folder / 'one.jpg'), image(folder / 'two.png')
    (folder / 'notes.txt').write_text('skip me')
    (tmp_path / 'empty').mkdir()
    assert ort_main([str(onnx_model), str(folder), '--out-dir', str(tmp_path / 'o')]) == 0
    assert sorted(p.name for p in (tmp_path / 'o').iterdir()) == ['one.jpg', 'two.jpg']
    assert ort_main([str(onnx_model), str(tmp_path / 'empty'), '--out-dir',
                     str(tmp_path / 'o')]) == 1
    assert 'a directory without images or videos' in capsys.readouterr().err


def test_a_failed_write_is_an_error(onnx_model, tmp_path, capsys):
    """Two inputs of one 251-character stem: their outputs (``<stem>_jpg.jpg``) need 259
    characters, more than a file name may have; the write fails and is reported."""
    stem = 'x' * 251
    inputs = [image(tmp_path / f'{stem}.jpg'), image(tmp_path / f'{stem}.png')]
    good = image(tmp_path / 'ok.jpg')
    code = ort_main([str(onnx_model), *map(str, inputs), str(good), '--out-dir',
                     str(tmp_path / 'o')])
    err = capsys.readouterr().err
    assert code == 1 and err.count('cannot write') == 2 and '2 of 3 inputs failed' in err
    assert sorted(p.name for p in (tmp_path / 'o').iterdir()) == ['ok.jpg']


def test_a_model_that_is_not_onnx_gives_one_line(tmp_path, capsys):
    fake = tmp_path / 'model.onnx'
    fake.write_bytes(b'\x00garbage' * 10)
    assert ort_main([str(fake), str(image(tmp_path / 'a.jpg'))]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f'error: {fake}: not a usable ONNX')


def test_output_names_are_unique():
    names = output_names([Path('a.jpg'), Path('a.png'), Path('d1/b.jpg'), Path('d2/b.jpg'),
                          Path('c.mp4'), Path('c.jpg')])
    assert names == ['a_jpg.jpg', 'a_png.jpg', 'b_1.jpg', 'b_2.jpg', 'c.mp4', 'c.jpg']


# the generator ------------------------------------------------------------------------


@pytest.mark.parametrize('args, message', [
    (['--train', '0', '--val', '0'], 'would write an empty dataset'),
    (['--size', '100000'], 'the image side must be in [32, 4096]'),
    (['--size', '8'], 'the image side must be in [32, 4096]'),
    (['--seed', '-5'], 'the seed must be >= 0'),
    (['--train', '-1'], 'image counts must be >= 0')])
def test_generator_refuses_bad_values(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as err:
        generate([str(tmp_path / 'out'), *args])
    assert err.value.code == 2 and message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_generator_refuses_a_file_and_an_unwritable_place(tmp_path, capsys, monkeypatch):
    target = tmp_path / 'file.txt'
    target.write_text('x')
    with pytest.raises(SystemExit):
        generate([str(target), '--train', '1', '--val', '0'])
    assert 'is not a folder' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        generate([str(target / 'sub'), '--train', '1', '--val', '0'])
    assert 'cannot write into' in capsys.readouterr().err
    monkeypatch.setattr(synthetic.os, 'access', lambda path, mode: False)
    with pytest.raises(SystemExit):
        generate([str(tmp_path / 'new' / 'out'), '--train', '1', '--val', '0'])
    assert 'permission denied' in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ['file.txt']


def test_generator_leaves_nothing_behind_when_writing_fails(tmp_path, capsys, monkeypatch):
    real = synthetic.write_split

    def fail_on_val(out_dir, split, *args):
        if split == 'val':
            raise OSError(28, 'No space left on device')
        return real(out_dir, split, *args)
    monkeypatch.setattr(synthetic, 'write_split', fail_on_val)
    with pytest.raises(SystemExit) as err:
        generate([str(tmp_path / 'deep' / 'er' / 'out'), '--train', '2', '--val', '1',
                  '--size', '32'])
    assert err.value.code == 1 and 'No space left on device' in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_generator_replaces_its_splits_in_an_existing_folder(tmp_path):
    out = tmp_path / 'out'
    generate([str(out), '--train', '3', '--val', '1', '--size', '32'])
    generate([str(out), '--train', '2', '--val', '1', '--size', '32', '--seed', '1'])
    train = json.loads((out / 'annotations' / 'person_keypoints_train.json').read_text())
    assert len(train['images']) == 2 and len(list((out / 'train').iterdir())) == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.')]


@pytest.mark.parametrize('umask, mode', [(0o022, 0o755), (0o077, 0o700)])
def test_generated_datasets_get_the_umasks_permissions(tmp_path, umask, mode):
    """The dataset is written into a temporary folder (mkdtemp: mode 0700) and renamed;
    it gets the mode any new folder gets, not the temporary folder's."""
    old = os.umask(umask)
    try:
        generate([str(tmp_path / 'out'), '--train', '1', '--val', '0', '--size', '32'])
    finally:
        os.umask(old)
    out = tmp_path / 'out'
    for folder in (out, out / 'train', out / 'annotations'):
        assert stat.S_IMODE(folder.stat().st_mode) == mode, folder
    assert stat.S_IMODE((out / 'annotations' / 'person_keypoints_train.json').stat().st_mode) \
        == mode & 0o666
