"""Synthetic data in the H3WB layout: 3-D whole-body figures seen by H3.6M-like cameras.

    python -m projects.rtmw3d.rtmw3d.h3wb OUT_DIR [--train-poses 100] [--val-poses 12]

writes what MMPose's ``H36MWholeBodyDataset`` reads from the real H3WB, unchanged:

- ``OUT_DIR/annotation_body3d/h3wb_train_bbox.npz`` with ``train_data`` (``[subject][action]``:
  ``frame_id`` and, per camera, ``pose_2d [F, 133, 2]`` pixels and ``camera_3d [F, 133, 3]``
  millimetres), ``metadata`` (``[subject][camera]``: ``K [1, 3, 3]`` in units of 1000 pixels,
  ``R [1, 3, 3]``, ``T [3]`` metres, ``Distortion [1, 5]``) and ``bbox``
  (``(subject, action, camera, frame) -> {x_min, y_min, x_max, y_max}``);
- ``OUT_DIR/original/<subject>/Images/<action>.<camera>/frame_<frame>.jpg``.

Subjects S1, S5 and S6 are the training split and S7 the validation split (as the dataset
class hard-codes). Everything is written into a temporary folder beside ``OUT_DIR`` that is
renamed to ``OUT_DIR`` only when complete (a full disk or an interrupt leaves no partial
dataset), after checking that the estimated size fits under ``--max-gb`` and on the disk.
Every pose is seen by all four cameras, as in H3.6M. The same images also
get COCO-WholeBody annotations (2-D, 133 points):
``OUT_DIR/annotations/coco_wholebody_{train,val}.json``, file names relative to ``OUT_DIR``.
"""
from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path
from typing import Dict, List, Optional

import cv2
import numpy as np

from projects.rtmw3d.rtmw3d import synthetic_wholebody as wb

TRAIN_SUBJECTS = ('S1', 'S5', 'S6')
VAL_SUBJECTS = ('S7',)
ACTIONS = ('Directions', 'Discussion', 'Greeting', 'Posing', 'Waiting', 'Walking')
ANN_FILE = 'annotation_body3d/h3wb_train_bbox.npz'
# the demo caches by it: the figures' version (rendering), then this writer's (its files)
VERSION = f'{wb.VERSION}.1'
BYTES_PER_PIXEL = 1.2  # JPEG at quality 95 of these figures: about 0.9, with a margin
DEFAULT_MAX_BYTES = 2 * 1024 ** 3


def _camera_metadata(camera: wb.Camera) -> dict:
    K = np.array([[camera.f[0], 0, camera.c[0]], [0, camera.f[1], camera.c[1]], [0, 0, 1]])
    return dict(K=(K / 1000.0)[None], R=camera.R[None], T=camera.T.copy(),
                Distortion=np.zeros((1, 5)))


def _split_poses(num_poses: int, subjects) -> Dict[str, Dict[str, int]]:
    """Poses per subject and action, spread as evenly as possible."""
    counts: Dict[str, Dict[str, int]] = {s: {} for s in subjects}
    for i in range(num_poses):
        subject = subjects[i % len(subjects)]
        action = ACTIONS[(i // len(subjects)) % len(ACTIONS)]
        counts[subject][action] = counts[subject].get(action, 0) + 1
    return counts


def estimated_bytes(train_poses: int, val_poses: int, image_size: int) -> int:
    """About how much :func:`write` puts on disk (the images dominate)."""
    images = 4 * (train_poses + val_poses)
    return int(images * (image_size ** 2 * BYTES_PER_PIXEL + 4096))


def write(out_dir: Path, train_poses: int = 100, val_poses: int = 12, image_size: int = 256,
          seed: int = 0, max_bytes: int = DEFAULT_MAX_BYTES) -> Path:
    """Writes the images, the npz and the COCO-WholeBody files into ``out_dir`` (which must
    not exist or be empty), through a temporary folder renamed when complete; returns the npz
    path. Refuses (``ValueError``) a dataset estimated above ``max_bytes`` or above the
    disk's free space."""
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FileExistsError(f'{out_dir} exists and is not an empty folder; remove it or '
                              'write to another folder')
    size = estimated_bytes(train_poses, val_poses, image_size)
    if size > max_bytes:
        raise ValueError(f'{out_dir}: {4 * (train_poses + val_poses)} images of {image_size}px '
                         f'need about {size / 1e9:.2f} GB, over the cap of '
                         f'{max_bytes / 1e9:.2f} GB; write fewer poses or raise the cap '
                         '(--max-gb)')
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(out_dir.parent).free
    if size > free:
        raise ValueError(f'{out_dir}: the dataset needs about {size / 1e9:.2f} GB, the disk '
                         f'has {free / 1e9:.2f} GB free')
    tmp = out_dir.with_name(f'.{out_dir.name}.partial-{os.getpid()}')
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _write_into(tmp, train_poses, val_poses, image_size, seed)
        if out_dir.exists():
            out_dir.rmdir()  # empty, checked above
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir / ANN_FILE


def _write_into(out_dir: Path, train_poses: int, val_poses: int, image_size: int,
                seed: int) -> None:
    cameras = wb.h36m_cameras(image_size)
    train_data, metadata, bboxes = {}, {}, {}
    for split, subjects, poses in (('train', TRAIN_SUBJECTS, train_poses),
                                   ('val', VAL_SUBJECTS, val_poses)):
        rng = np.random.default_rng([seed, {'train': 0, 'val': 1}[split], 3])
        images: List[dict] = []
        annotations: List[dict] = []
        for subject, actions in _split_poses(poses, subjects).items():
            metadata[subject] = {c.name: _camera_metadata(c) for c in cameras}
            train_data[subject] = {}
            for action, count in actions.items():
                train_data[subject][action] = _write_action(
                    rng, out_dir, subject, action, count, cameras, bboxes, images,
                    annotations)
        wb.write_coco_wholebody(out_dir / 'annotations' / f'coco_wholebody_{split}.json',
                                images, annotations)
    ann_file = out_dir / ANN_FILE
    ann_file.parent.mkdir(parents=True, exist_ok=True)
    np.savez(ann_file, train_data=np.array(train_data, dtype=object),
             metadata=np.array(metadata, dtype=object), bbox=np.array(bboxes, dtype=object))


def _write_action(rng: np.random.Generator, out_dir: Path, subject: str, action: str,
                  count: int, cameras, bboxes: dict, images: List[dict],
                  annotations: List[dict]) -> dict:
    """Renders ``count`` poses of one action from every camera; returns its npz entry."""
    frames = [int(f) for f in np.arange(count) * 5 + 1]  # H3WB keeps every 5th frame
    entry = {'frame_id': np.array(frames)}
    poses = [wb.place(wb.random_pose_3d(rng), *wb.random_placement(rng)) for _ in frames]
    palettes = [wb.Palette.random(rng) for _ in frames]
    for camera in cameras:
        folder = out_dir / 'original' / subject / 'Images' / f'{action}.{camera.name}'
        folder.mkdir(parents=True, exist_ok=True)
        pose_2d, camera_3d = [], []
        for frame, world, palette in zip(frames, poses, palettes):
            image, pixels, points_cam = wb.make_view(rng, camera, world, palette)
            path = folder / f'frame_{frame}.jpg'
            if not cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 95]):
                raise OSError(f'could not write {path} (disk full or not writable)')
            box = wb.figure_box(pixels, camera.size)
            if box is None:
                raise RuntimeError(f'figure outside camera {camera.name}: the placement '
                                   'range of wholebody.random_placement is too wide')
            bboxes[(subject, action, camera.name, frame)] = dict(
                x_min=float(box[0]), y_min=float(box[1]), x_max=float(box[2]),
                y_max=float(box[3]))
            image_id = len(images) + 1
            images.append(dict(id=image_id, file_name=str(path.relative_to(out_dir)),
                               width=camera.size[0], height=camera.size[1]))
            annotations.append(dict(wb.coco_wholebody_annotation(pixels, box, camera.size),
                                    image_id=image_id))
            pose_2d.append(pixels)
            camera_3d.append(points_cam * 1000.0)  # H3WB stores millimetres
        entry[camera.name] = dict(pose_2d=np.stack(pose_2d).astype(np.float32),
                                  camera_3d=np.stack(camera_3d).astype(np.float32))
    return entry


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog='python -m projects.rtmw3d.rtmw3d.h3wb',
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('out_dir', type=Path)
    parser.add_argument('--train-poses', type=int, default=100,
                        help='training poses (4 images each)')
    parser.add_argument('--val-poses', type=int, default=12, help='validation poses')
    parser.add_argument('--size', type=int, default=256, help='image side in pixels')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--max-gb', type=float, default=DEFAULT_MAX_BYTES / 1e9,
                        help='refuse a dataset estimated above this size')
    args = parser.parse_args(argv)
    if min(args.train_poses, args.val_poses) < 1 or args.size < 64 or args.max_gb <= 0:
        parser.error('--train-poses/--val-poses must be >= 1, --size >= 64, --max-gb > 0')
    try:
        path = write(args.out_dir, args.train_poses, args.val_poses, args.size, args.seed,
                     max_bytes=int(args.max_gb * 1e9))
    except (FileExistsError, ValueError) as error:
        parser.error(str(error))
    print(f'wrote {path}')


if __name__ == '__main__':
    main()
