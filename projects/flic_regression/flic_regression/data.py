"""Data in FLIC's format: synthetic film-like frames, and COCO keypoints converted to FLIC's
slots.

Synthetic FLIC: 720 x 480 frames showing one or two people from the hips up, drawn with the
repository's one figure model (:mod:`rtmo_plugin.synthetic`: the figure is scaled so that its
upper body fills the frame and its legs fall below the bottom edge), written as an
``examples.mat`` with FLIC's fields plus ``images/*.jpg``: the dataset reads it exactly as it
reads the real FLIC. As in FLIC, only the 11 labelled slots have coordinates (the rest NaN),
and each annotated person is one example (a two-person frame gives two).

COCO -> FLIC: each person's 11 COCO keypoints that FLIC labels go to their FLIC slots
(:data:`.slots.FROM_COCO`); persons without a left shoulder or right hip (no FLIC torso size)
are left out.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Tuple

import cv2
import numpy as np

from rtmo_plugin import synthetic

from . import slots
from .flic_format import Example, torsobox, write_examples

FRAME_W, FRAME_H = 720, 480  # FLIC's frames
SHOULDERS_HIPS = [slots.INDEX[n] for n in ('lsho', 'rsho', 'lhip', 'rhip')]
VERSION = 1  # bump when the images or labels change: the demo caches by it


def coco_to_slots(keypoints: np.ndarray) -> np.ndarray:
    """COCO ``[17, 3]`` (x, y, visibility) -> FLIC ``[29, 2]``, NaN where FLIC does not label
    or COCO has no point (visibility 0)."""
    coords = np.full((slots.NUM_SLOTS, 2), np.nan)
    for coco, slot in slots.FROM_COCO.items():
        if keypoints[coco, 2] > 0:
            coords[slot] = keypoints[coco, :2]
    return coords


def _figure(rng: np.random.Generator, x_range: Tuple[float, float]) -> Tuple[np.ndarray, float]:
    """COCO keypoints ``[17, 2]`` and height of a figure whose labelled FLIC points lie in the
    frame (its legs may not)."""
    for _ in range(50):
        unit = rng.uniform(0.12, 0.17) * FRAME_H  # head-heights: hips-to-head is ~4.3 of them
        centre = np.array([rng.uniform(*x_range) * FRAME_W,
                           rng.uniform(0.8, 0.95) * FRAME_H + 0.2 * unit])
        kpts = synthetic.random_pose(rng, 8 * unit, centre)
        points = coco_to_slots(np.concatenate([kpts, np.ones((17, 1))], 1))[slots.LABELLED]
        if (points >= 0).all() and (points < [FRAME_W, FRAME_H]).all():
            return kpts, 8 * unit
    raise RuntimeError('synthetic FLIC: no figure fitted the frame in 50 draws')


def make_frame(rng: np.random.Generator) -> Tuple[np.ndarray, List[np.ndarray]]:
    """One ``[480, 720, 3]`` BGR frame and the FLIC coordinates ``[29, 2]`` of its persons
    (one, or two side by side; the second may overlap the first)."""
    image = np.ascontiguousarray(synthetic.background(rng, FRAME_W)[:FRAME_H])
    ranges = [(0.3, 0.7)] if rng.random() < 0.7 else [(0.15, 0.4), (0.6, 0.85)]
    persons = []
    for x_range in ranges:
        kpts, height = _figure(rng, x_range)
        synthetic.draw_figure(image, kpts, height, rng)
        persons.append(coco_to_slots(np.concatenate([kpts, np.ones((17, 1))], 1)))
    return image, persons


def write_synthetic_flic(out_dir, num_train: int, num_test: int, seed: int = 0) -> Path:
    """Writes ``out_dir/images/*.jpg`` and ``out_dir/examples.mat``: ``num_train`` training
    and ``num_test`` test frames (``istrain`` / ``istest``). Returns the ``.mat`` file."""
    if min(num_train, num_test) < 0 or num_train + num_test == 0:
        raise ValueError(f'write_synthetic_flic: num_train={num_train}, num_test={num_test}: '
                         'need counts >= 0, not both 0')
    out_dir = Path(out_dir)
    (out_dir / 'images').mkdir(parents=True, exist_ok=True)
    examples = []
    for split, count in (('train', num_train), ('test', num_test)):
        rng = np.random.default_rng([seed, 0 if split == 'train' else 1])
        for frame in range(count):
            image, persons = make_frame(rng)
            name = f'synthetic-{split}-{frame + 1:08d}.jpg'
            cv2.imwrite(str(out_dir / 'images' / name), image, [cv2.IMWRITE_JPEG_QUALITY, 92])
            examples += [Example(coords=c, torsobox=torsobox(c, SHOULDERS_HIPS), filepath=name,
                                 imgdims=np.array([FRAME_H, FRAME_W, 3]),
                                 istrain=split == 'train', istest=split == 'test',
                                 moviename='synthetic', currframe=frame + 1)
                         for c in persons]
    return write_examples(out_dir / 'examples.mat', examples)


def coco_to_flic(coco_file) -> Tuple[List[Example], int]:
    """FLIC test examples of a COCO keypoint file's persons; also how many were left out (no
    left shoulder or right hip, or a torso box of zero width). ``filepath`` is the COCO
    ``file_name``; ``torsobox`` the box of the labelled shoulders and hips."""
    coco = json.loads(Path(coco_file).read_text())
    images = {image['id']: image for image in coco['images']}
    examples, skipped = [], 0
    for ann in coco['annotations']:
        if ann.get('iscrowd', 0) or 'keypoints' not in ann:
            continue
        coords = coco_to_slots(np.asarray(ann['keypoints'], np.float64).reshape(17, 3))
        box = torsobox(coords, SHOULDERS_HIPS)
        if np.isnan(coords[list(slots.TORSO)]).any() or not box[2] > box[0]:
            skipped += 1  # no torso size, or no torso box to crop by
            continue
        image = images[ann['image_id']]
        examples.append(Example(
            coords=coords, torsobox=box,
            filepath=image['file_name'], imgdims=np.array([image['height'], image['width'], 3]),
            istrain=False, istest=True, moviename='coco', currframe=int(ann['id'])))
    if not examples:
        raise ValueError(f'{coco_file}: no person has both a left shoulder and a right hip')
    return examples, skipped


def write_coco_as_flic(coco_file, out_file) -> Tuple[Path, int, int]:
    """:func:`coco_to_flic` written as ``examples.mat``; returns it, persons kept, left out."""
    examples, skipped = coco_to_flic(coco_file)
    return write_examples(out_file, examples), len(examples), skipped
