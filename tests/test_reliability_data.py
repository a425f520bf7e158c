"""Data checks before iteration 1: bad annotations dropped with their ids, nothing-to-train
refused with the reason, unreadable image files found (or skipped on request)."""
import itertools
import json
import shutil
from types import SimpleNamespace

import numpy as np
import pytest
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS
from reliability_fixtures import SIZE, edited, tiny_cfg, write_tiny_set

from helpers import load_tool
from rtmo_plugin.data_checks import DataCheckError, DataCheckHook
from rtmo_plugin.image_files import image_problem

LOGGERS = itertools.count()
PIPELINE = [dict(type='LoadImage'),
            dict(type='FilterAnnotations', by_kpt=True, by_box=True, keep_empty=False)]


@pytest.fixture
def tiny_set(tmp_path):
    ann_file = write_tiny_set(tmp_path / 'data')
    return tmp_path / 'data', ann_file


def build(root, ann_file):
    init_default_scope('mmpose')
    return DATASETS.build(dict(type='CocoDataset', data_root='', ann_file=str(ann_file),
                               data_mode='bottomup', data_prefix=dict(img=str(root / 'train')),
                               pipeline=PIPELINE))


def run_hook(dataset, **kwargs):
    """The hook's ``before_train`` on a stand-in runner holding ``dataset``."""
    # a new logger: it prints to the stdout that pytest captures now
    logger = MMLogger.get_instance(f'reliability-{next(LOGGERS)}')
    runner = SimpleNamespace(train_dataloader=SimpleNamespace(dataset=dataset), val_loop=None,
                             logger=logger)
    DataCheckHook(**kwargs).before_train(runner)


def every_ann(change):
    def edit(coco):
        for ann in coco['annotations']:
            change(ann)
    return edit


def persons(dataset) -> int:
    return sum(len(dataset.get_data_info(i)['keypoints']) for i in range(len(dataset)))


# image files --------------------------------------------------------------------------


def test_image_problem_reads_headers_only(tiny_set, tmp_path):
    root, _ = tiny_set
    good = root / 'train' / '000001.jpg'
    assert image_problem(str(good)) == (None, (SIZE, SIZE))
    data = good.read_bytes()
    (tmp_path / 'half.jpg').write_bytes(data[:len(data) // 2])
    (tmp_path / 'noise.jpg').write_bytes(np.random.default_rng(0).bytes(2000))
    (tmp_path / 'empty.jpg').write_bytes(b'')
    import cv2
    cv2.imwrite(str(tmp_path / 'ok.png'), np.zeros((20, 30, 3), np.uint8))
    png = (tmp_path / 'ok.png').read_bytes()
    (tmp_path / 'cut.png').write_bytes(png[:len(png) - 20])
    assert image_problem(str(tmp_path / 'half.jpg'))[0] == \
        'truncated JPEG (the file ends before its end-of-image marker)'
    assert image_problem(str(tmp_path / 'noise.jpg'))[0].startswith(
        'not an image OpenCV can decode')
    assert image_problem(str(tmp_path / 'empty.jpg'))[0] == 'empty file (0 bytes)'
    assert image_problem(str(tmp_path / 'missing.jpg'))[0] == 'missing (no such file)'
    assert image_problem(str(tmp_path))[0] == 'not a file'
    assert image_problem(str(tmp_path / 'ok.png')) == (None, (30, 20))
    assert image_problem(str(tmp_path / 'cut.png'))[0] == 'truncated PNG (no IEND chunk at the end)'


def test_the_scan_and_the_runtime_read_agree_on_truncation(tiny_set, tmp_path):
    """One truncation rule (rtmo_ort.is_truncated): the scan reads a file's head and tail,
    rtmo_ort.read_image the whole file; every cut of a JPEG and a PNG gets the same verdict."""
    import cv2

    from rtmo_ort import is_truncated

    root, _ = tiny_set
    cv2.imwrite(str(tmp_path / 'ok.png'), np.zeros((20, 30, 3), np.uint8))
    for source in (root / 'train' / '000001.jpg', tmp_path / 'ok.png'):
        data = source.read_bytes()
        for end in range(len(data) // 3, len(data) + 1, 97):
            cut = tmp_path / f'cut{source.suffix}'
            cut.write_bytes(data[:end])
            assert image_problem(str(cut))[0] == is_truncated(data[:end]), (source.name, end)
        assert is_truncated(data) is None


def test_missing_truncated_and_random_images_stop_before_training(tiny_set):
    root, ann_file = tiny_set
    (root / 'train' / '000002.jpg').unlink()
    jpg = root / 'train' / '000003.jpg'
    jpg.write_bytes(jpg.read_bytes()[:300])
    (root / 'train' / '000004.jpg').write_bytes(np.random.default_rng(1).bytes(500))
    with pytest.raises(DataCheckError) as err:
        run_hook(build(root, ann_file))
    message = str(err.value)
    assert '3 unreadable image files' in message
    assert '000002.jpg: missing (no such file)' in message
    assert '000003.jpg: truncated JPEG' in message
    assert '000004.jpg: not an image OpenCV can decode' in message
    assert 'skip_bad_images=True' in message


def test_skip_bad_images_trains_on_the_rest_and_reports_them(tiny_set, capsys):
    root, ann_file = tiny_set
    (root / 'train' / '000002.jpg').unlink()
    dataset = build(root, ann_file)
    size = len(dataset)
    run_hook(dataset, skip_bad_images=True)
    assert len(dataset) == size  # the epoch length and the schedule stay as configured
    paths = [dataset.get_data_info(i)['img_path'] for i in range(size)]
    assert not any(p.endswith('000002.jpg') for p in paths)
    assert paths[1].endswith('000003.jpg')  # its slot holds the next good image
    assert '000002.jpg: missing (no such file)' in capsys.readouterr().out
    assert dataset[1]['img'].shape == (SIZE, SIZE, 3)  # the pipeline loads every slot


# annotations --------------------------------------------------------------------------


@pytest.mark.parametrize('change, reason', [
    (lambda a: a.update(keypoints=[v if i % 3 != 2 else 0 for i, v in
                                   enumerate(a['keypoints'])], num_keypoints=0),
     'all keypoints invisible'),
    (lambda a: a.update(bbox=[a['bbox'][0], a['bbox'][1], 0, 0]), 'zero-area boxes'),
    # just outside (one image size further is a malformed label, named per annotation)
    (lambda a: a.update(keypoints=[v + SIZE if i % 3 != 2 else v for i, v in
                                   enumerate(a['keypoints'])]),
     'keypoints outside the image')])
def test_nothing_trainable_is_refused_with_the_reason(tiny_set, change, reason):
    root, ann_file = tiny_set
    bad = edited(ann_file, 'bad.json', every_ann(change))
    with pytest.raises(DataCheckError, match=f'nothing to train on.*people with {reason}'):
        run_hook(build(root, bad))


def test_non_finite_and_inverted_people_are_dropped_with_their_ids(tiny_set, capsys):
    root, ann_file = tiny_set
    coco = json.loads(ann_file.read_text())
    first, second, third = coco['annotations'][:3]

    def edit(c):
        anns = {a['id']: a for a in c['annotations']}
        anns[first['id']]['keypoints'][0] = float('nan')
        anns[second['id']]['bbox'][1] = float('inf')
        anns[third['id']]['bbox'][2] = -anns[third['id']]['bbox'][2]  # negative width
    dataset = build(root, edited(ann_file, 'bad.json', edit))
    total = persons(dataset)
    run_hook(dataset)
    logged = capsys.readouterr().out
    assert persons(dataset) == total - 3
    for ann, why in ((first, 'non-finite keypoints'), (second, 'non-finite bbox'),
                     (third, 'inverted box')):
        assert f"image id {ann['image_id']}, annotation id {ann['id']}): {why}" in logged
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        assert np.isfinite(info['keypoints']).all() and np.isfinite(info['bbox']).all()
        assert len(info['id']) == len(info['keypoints']) == len(info['bbox'])
        assert (info['bbox'][:, 2:] >= info['bbox'][:, :2]).all()


def test_top_down_sets_are_scanned_and_a_bad_person_replaced(tiny_set, capsys):
    """Top-down infos hold one person each, its area 0-d: the scan used to fail on it
    (IndexError); a non-finite person is dropped and its slot re-drawn from a good one."""
    root, ann_file = tiny_set
    ann = json.loads(ann_file.read_text())['annotations'][0]

    def edit(c):
        next(a for a in c['annotations'] if a['id'] == ann['id'])['keypoints'][0] = float('nan')
    init_default_scope('mmpose')
    dataset = DATASETS.build(dict(type='CocoDataset', data_root='', data_mode='topdown',
                                  ann_file=str(edited(ann_file, 'bad.json', edit)),
                                  data_prefix=dict(img=str(root / 'train')), pipeline=[]))
    count = len(dataset)
    run_hook(dataset)
    assert f"annotation id {ann['id']}): non-finite keypoints" in capsys.readouterr().out
    assert len(dataset) == count  # the epoch keeps its length
    for i in range(count):
        assert np.isfinite(dataset.get_data_info(i)['keypoints']).all()


def test_a_negative_area_is_dropped_with_its_ids(tiny_set, capsys):
    """A negative COCO area used to pass the scan; the NaN it gives in OKS was then blamed on
    the learning rate."""
    root, ann_file = tiny_set
    ann = json.loads(ann_file.read_text())['annotations'][1]

    def edit(c):
        next(a for a in c['annotations'] if a['id'] == ann['id'])['area'] = -5.0
    dataset = build(root, edited(ann_file, 'bad.json', edit))
    total = persons(dataset)
    run_hook(dataset)
    assert persons(dataset) == total - 1
    assert (f"image id {ann['image_id']}, annotation id {ann['id']}): area -5 <= 0"
            in capsys.readouterr().out)


def test_annotation_file_problems_are_named_with_ids_and_fields(tiny_set, tmp_path):
    """Duplicate ids, orphans, unknown categories, sizes that disagree with the image file and
    file names that leave the image folder: MMPose parses all of them without a word."""
    root, ann_file = tiny_set

    def edit(c):
        images, anns = c['images'], c['annotations']
        images[2]['width'] = 100                      # the file is 64 pixels wide
        images[3]['file_name'] = '../../secret.jpg'
        images.append(dict(id=99, file_name=str(tmp_path / 'x.jpg'), width=64, height=64))
        images.append(dict(images[1], id=1))          # image id 1 again
        anns[0]['image_id'] = 12345                   # no such image
        anns[1]['category_id'] = 7                    # only category 1 exists
        anns.append(dict(anns[2]))                    # the same annotation id twice
    bad = edited(ann_file, 'bad.json', edit)
    first = json.loads(ann_file.read_text())['annotations']
    with pytest.raises(DataCheckError) as err:
        run_hook(build(root, bad))
    message = str(err.value)
    assert f'7 problems in the annotation file {bad} of train_dataloader.dataset' in message
    for line in ('image id 1 (images[5]): field id: the same id as images[0]',
                 'image id 3 (images[2]): fields width, height = 100, 64 but 000003.jpg is '
                 '64x64 pixels',
                 "image id 4 (images[3]): field file_name='../../secret.jpg' leaves the image "
                 'folder',
                 f"image id 99 (images[4]): field file_name='{tmp_path / 'x.jpg'}' leaves",
                 f"annotation id {first[0]['id']} (annotations[0], image id 12345): field "
                 'image_id=12345: no image has this id',
                 f"annotation id {first[1]['id']} (annotations[1], image id "
                 f"{first[1]['image_id']}): field category_id=7: not among the categories of "
                 'the file [1]',
                 f"annotation id {first[2]['id']} (annotations[{len(first)}], image id "
                 f"{first[2]['image_id']}): field id: the same id as annotations[2]"):
        assert line in message, (line, message)
    # evaluation sets are checked alike; the check can be turned off
    runner = SimpleNamespace(test_dataloader=SimpleNamespace(dataset=build(root, bad)))
    with pytest.raises(DataCheckError, match='7 problems in the annotation file'):
        DataCheckHook().before_test(runner)
    with pytest.raises(DataCheckError, match='unreadable image files'):  # ../../secret.jpg
        DataCheckHook(scan_ann_file=False).before_test(runner)


def test_a_consistent_file_passes_the_file_check(tiny_set, shared_data):
    from rtmo_plugin.data_checks import coco_file_problems
    root, ann_file = tiny_set
    run_hook(build(root, ann_file))
    coco = json.loads((shared_data / 'coco-mini' / 'person_keypoints.json').read_text())
    assert coco_file_problems(coco, str(shared_data / 'coco-mini')) == []


def test_summary_counts_what_filtering_leaves(tiny_set, capsys):
    root, ann_file = tiny_set
    coco = json.loads(ann_file.read_text())
    hidden = coco['annotations'][0]['id']

    def edit(c):
        ann = next(a for a in c['annotations'] if a['id'] == hidden)
        ann['keypoints'] = [v if i % 3 != 2 else 0 for i, v in enumerate(ann['keypoints'])]
    run_hook(build(root, edited(ann_file, 'bad.json', edit)))
    n, logged = len(coco['annotations']), capsys.readouterr().out
    assert f'4 images, {n} people; left after filtering: {n - 1} people in 4 images' in logged
    assert '(filtered out: 1 with all keypoints invisible (v=0))' in logged


@pytest.mark.slow
def test_train_script_explains_an_annotation_file_without_annotations(tiny_set, tmp_path):
    """mmengine fails while building the dataset ("need at least one array to
    concatenate"); tools/train.py says what is wrong with the file instead."""
    from mmengine.config import Config

    root, ann_file = tiny_set
    empty = edited(ann_file, 'empty.json', lambda c: c.update(annotations=[]))
    cfg = tiny_cfg(root, tmp_path / 'work', empty)
    cfg_file = tmp_path / 'cfg.py'
    Config(cfg.to_dict()).dump(str(cfg_file))
    train_tool = load_tool('train')
    with pytest.raises(DataCheckError, match=r'has 4 images and 0 annotations .*empty'):
        train_tool.main([str(cfg_file)])


@pytest.mark.slow
def test_train_script_names_the_malformed_fields_mmpose_fails_on(tiny_set, tmp_path):
    """MMPose's parsing fails with KeyError: 'width' / 'not enough values to unpack',
    naming no file or entry; tools/train.py names them."""
    from mmengine.config import Config

    root, ann_file = tiny_set
    coco = json.loads(ann_file.read_text())
    ann = coco['annotations'][2]

    def edit(c):
        del c['images'][1]['width']
        c['annotations'][2]['bbox'] = [1, 2, 3]
    bad = edited(ann_file, 'bad.json', edit)
    cfg_file = tmp_path / 'cfg.py'
    Config(tiny_cfg(root, tmp_path / 'work', bad).to_dict()).dump(str(cfg_file))
    with pytest.raises(DataCheckError) as err:
        load_tool('train').main([str(cfg_file)])
    message = str(err.value)
    assert f'problems in the annotation file {bad}' in message
    assert 'image id 2 (images[1]): field width=None: missing or not a positive number' \
        in message
    assert (f"annotation id {ann['id']} (annotations[2], image id {ann['image_id']}): field "
            'bbox=[1, 2, 3]: not 4 numbers') in message


def test_a_truncated_annotation_file_is_named(tiny_set):
    from rtmo_plugin.data_checks import check_coco_file
    _, ann_file = tiny_set
    cut = ann_file.with_name('cut.json')
    cut.write_text(ann_file.read_text()[:100])
    with pytest.raises(DataCheckError, match=f'the annotation file {cut} of val is not valid '
                       'JSON .*it may be truncated'):
        check_coco_file(str(cut), '', 'val')


def test_malformed_fields_are_named():
    from rtmo_plugin.data_checks import coco_file_problems
    coco = dict(images=[dict(id=[1], file_name=3, width=-1, height='x')],
                annotations=[dict(id=True, image_id=[1], keypoints=['a', 1, 2], area='big')])
    assert coco_file_problems(coco, '') == [
        'image id [1] (images[0]): field id=[1]: missing or not an integer',
        'image id [1] (images[0]): field file_name=3: missing or not a path',
        'image id [1] (images[0]): field width=-1: missing or not a positive number',
        "image id [1] (images[0]): field height='x': missing or not a positive number",
        'annotation id True (annotations[0], image id [1]): field id=True: missing or not an '
        'integer',
        "annotation id True (annotations[0], image id [1]): field keypoints=['a', 1, 2]: not a "
        'list of numbers, three per keypoint (x, y, visibility)',
        "annotation id True (annotations[0], image id [1]): field area='big': not a number",
        'annotation id True (annotations[0], image id [1]): field bbox: missing (MMPose skips '
        'a person without a box, and its keypoints, without a word)']


@pytest.mark.slow
def test_runner_stops_before_iteration_one_when_nothing_is_trainable(tiny_set, tmp_path):
    from mmengine.runner import Runner
    root, ann_file = tiny_set
    bad = edited(ann_file, 'bad.json', every_ann(lambda a: a.update(bbox=[1, 1, 0, 0])))
    runner = Runner.from_cfg(tiny_cfg(root, tmp_path / 'work', bad))
    with pytest.raises(DataCheckError, match='zero-area boxes'):
        runner.train()
    assert runner.iter == 0
    shutil.rmtree(tmp_path / 'work', ignore_errors=True)


def test_labels_mmpose_takes_silently_are_named():
    """A person with keypoints but no box (MMPose skips it), a visibility outside 0/1/2 (a
    negative one becomes a negative loss weight) and a labelled keypoint far outside its
    image (1e30 overflowed the augmentations into skipped non-finite steps): before, all
    three trained without a word."""
    from rtmo_plugin.data_checks import coco_file_problems
    kpts = [10.0, 20.0, 2.0, 30.0, 40.0, 1.0]
    coco = dict(images=[dict(id=1, file_name='a.jpg', width=64, height=48)],
                annotations=[dict(id=5, image_id=1, keypoints=kpts),
                             dict(id=6, image_id=1, bbox=[0, 0, 9, 9], keypoints=kpts[:5] + [-1]),
                             dict(id=7, image_id=1, bbox=[0, 0, 9, 9],
                                  keypoints=kpts[:3] + [1e30, 5.0, 2.0]),
                             dict(id=8, image_id=1, bbox=[0, 0, 9, 9],  # unlabelled: fine
                                  keypoints=kpts[:3] + [1e30, 5.0, 0.0]),
                             dict(id=9, image_id=1, bbox=[0, 0, 9, 9],  # just outside: fine
                                  keypoints=[-3.0, 50.0, 1.0, 70.0, 47.0, 2.0])]),
    assert coco_file_problems(coco[0], '') == [
        'annotation id 5 (annotations[0], image id 1): field bbox: missing (MMPose skips a '
        'person without a box, and its keypoints, without a word)',
        'annotation id 6 (annotations[1], image id 1): field keypoints: visibility -1 of '
        'keypoint 1 (1 such) is not 0 (unlabelled), 1 (occluded) or 2 (visible)',
        'annotation id 7 (annotations[2], image id 1): field keypoints: keypoint 1 at (1e+30, '
        '5) lies more than an image size outside the 64x48 image (1 such); unlabel it (v=0) '
        'or fix its coordinates']


@pytest.mark.parametrize('content, found', [
    ('[1, 2]', 'a JSON list'),
    ('{"annotations": []}', "an object with the keys ['annotations']")])
def test_explain_names_a_file_that_is_not_coco(tmp_path, content, found):
    """xtcocotools fails on a JSON list with a bare AssertionError ("annotation file format
    <class 'list'> not supported"); the explanation names the file and what it holds."""
    from mmengine.config import Config

    from rtmo_plugin.data_checks import explain_dataset_failure
    ann_file = tmp_path / 'bad.json'
    ann_file.write_text(content)
    cfg = Config(dict(test_dataloader=dict(dataset=dict(ann_file=str(ann_file)))))
    assert explain_dataset_failure(cfg) == (
        f'the annotation file {ann_file} of test_dataloader.dataset is not a COCO annotation '
        f'file: it holds {found}, where COCO files hold an object with "images", '
        '"annotations" and "categories" lists')


@pytest.mark.slow
def test_test_script_names_an_annotation_file_that_is_a_list(tiny_set, tmp_path):
    """tools/test.py on a JSON list: xtcocotools' bare AssertionError became the error that
    names the file."""
    import torch
    from mmengine.config import Config

    from rtmo_plugin.build import build_model

    root, _ = tiny_set
    listed = tmp_path / 'list.json'
    listed.write_text('[1, 2]')
    cfg = tiny_cfg(root, tmp_path / 'work')
    cfg.test_dataloader.dataset.ann_file = str(listed)
    cfg_file, checkpoint = tmp_path / 'cfg.py', tmp_path / 'model.pth'
    Config(cfg.to_dict()).dump(str(cfg_file))
    torch.save({'state_dict': build_model(cfg).state_dict()}, checkpoint)
    with pytest.raises(DataCheckError, match=f'the annotation file {listed} of '
                       'test_dataloader.dataset is not a COCO annotation file: it holds a JSON '
                       'list'):
        load_tool('test').main([str(cfg_file), str(checkpoint), '--work-dir',
                                str(tmp_path / 'test')])
