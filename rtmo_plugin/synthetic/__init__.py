"""Deterministic synthetic multi-person dataset in COCO-keypoints format.

Each image shows 0-3 stick figures with the 17 COCO keypoints: random pose,
scale, position and depth order (later figures occlude earlier ones), cut by
the image border, on a noisy textured background. Left limbs are drawn in warm
and right limbs in cool colours, so left and right can be told apart (do not
train with flip augmentation: a mirrored image would swap the colour cue).

    python -m rtmo_plugin.synthetic OUT_DIR [--train 400] [--val 50] [--size 256] [--seed 0]
        [--masks]

writes ``OUT_DIR/{train,val}/*.jpg`` and ``OUT_DIR/annotations/person_keypoints_{train,val}.json``
(with ``--masks``, each person also gets a COCO ``segmentation``: the RLE of its visible
silhouette).

This module is the one figure model and renderer of the repository: the projects under
``projects/`` write their own formats (COCO-WholeBody, FLIC ``.mat``, H3WB ``.npz``) from
:func:`random_pose`, :func:`draw_figure`, :func:`background` and :func:`make_image`.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

import cv2
import numpy as np

# COCO keypoint order; (parent, child) bones drawn as limbs, with a side: L, R or C(entre).
KEYPOINTS = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
             'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
             'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle')
LIMBS = ((5, 7, 'L'), (7, 9, 'L'), (6, 8, 'R'), (8, 10, 'R'), (11, 13, 'L'), (13, 15, 'L'),
         (12, 14, 'R'), (14, 16, 'R'))
EXTREMITIES = ((9, 'L'), (10, 'R'), (15, 'L'), (16, 'R'))  # wrists and ankles
FACE_COLOURS = {1: (0, 0, 255), 2: (255, 0, 0), 3: (0, 200, 255), 4: (255, 200, 0), 0: (0, 0, 0)}
VERSION = 5  # bump when the images or labels change: the demo caches by it
PERSON_AREA_RATIO = 0.5  # COCO person mask area / box area is about this
COCO_SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7],
                 [6, 8], [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5],
                 [4, 6], [5, 7]]


@dataclass
class Figure:
    keypoints: np.ndarray   # [17, 2] float, image pixels (may lie outside the image)
    mask: np.ndarray        # [H, W] bool silhouette (before occlusion)


def _rotate(angle: float) -> np.ndarray:
    return np.array([np.sin(angle), np.cos(angle)])  # 0 rad points down the image


def random_pose(rng: np.random.Generator, height: float, center: np.ndarray) -> np.ndarray:
    """17 keypoints of a standing, roughly camera-facing figure ``height`` pixels tall."""
    unit = height / 8.0  # head-heights
    tilt = rng.normal(0, 0.12)
    up = -_rotate(tilt)
    side = np.array([np.cos(tilt), -np.sin(tilt)])  # from the figure's right to its left
    hip_mid = center + up * unit * 0.2
    neck = hip_mid + up * unit * 2.9
    kpts = np.zeros((17, 2))
    half_shoulder = unit * rng.uniform(0.8, 1.05)
    half_hip = unit * rng.uniform(0.45, 0.6)
    # camera-facing: the figure's left side is on the image's right
    kpts[5], kpts[6] = neck + side * half_shoulder, neck - side * half_shoulder
    kpts[11], kpts[12] = hip_mid + side * half_hip, hip_mid - side * half_hip
    head = neck + up * unit * rng.uniform(0.9, 1.1) + side * rng.normal(0, 0.1 * unit)
    kpts[0] = head + np.array([0, 0.15 * unit])
    for eye, ear, sign in ((1, 3, 1), (2, 4, -1)):
        kpts[eye] = head + side * sign * 0.22 * unit - up * 0.05 * unit
        kpts[ear] = head + side * sign * 0.45 * unit + up * 0.05 * unit
    # limb angles from the body's down axis, positive away from the body (sign: the side)
    for shoulder, elbow, wrist, sign in ((5, 7, 9, 1), (6, 8, 10, -1)):
        upper = tilt + sign * rng.uniform(-0.2, 2.0)  # from across the chest to raised
        lower = upper + sign * rng.uniform(-0.2, 1.6)
        kpts[elbow] = kpts[shoulder] + _rotate(upper) * unit * 1.5
        kpts[wrist] = kpts[elbow] + _rotate(lower) * unit * 1.3
    for hip, knee, ankle, sign in ((11, 13, 15, 1), (12, 14, 16, -1)):
        thigh = tilt + sign * rng.uniform(-0.15, 0.6)
        shin = thigh - sign * rng.uniform(-0.1, 0.9)  # knees bend back towards the centre
        kpts[knee] = kpts[hip] + _rotate(thigh) * unit * 1.9
        kpts[ankle] = kpts[knee] + _rotate(shin) * unit * 1.8
    return kpts


def _colour(rng: np.random.Generator, hue: Tuple[int, int]) -> Tuple[int, int, int]:
    hsv = np.uint8([[[rng.integers(*hue), rng.integers(150, 256), rng.integers(150, 256)]]])
    return tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0])


def draw_figure(image: np.ndarray, kpts: np.ndarray, height: float,
                rng: np.random.Generator) -> np.ndarray:
    """Draws a figure onto ``image`` in place and returns its silhouette mask."""
    mask = np.zeros(image.shape[:2], np.uint8)
    unit = height / 8.0
    width = max(2, int(round(unit * 0.45)))
    pt = [tuple(int(round(c)) for c in p * 16) for p in kpts]  # 4 fractional bits
    colours = {'L': _colour(rng, (0, 25)), 'R': _colour(rng, (95, 125)),
               'C': _colour(rng, (40, 80))}
    torso = np.array([pt[5], pt[6], pt[12], pt[11]], np.int32)
    head_centre = tuple(int(round(c * 16)) for c in (kpts[3] + kpts[4]) / 2)
    for canvas, colour_of in ((image, lambda s: colours[s]), (mask, lambda s: 255)):
        cv2.fillPoly(canvas, [torso], colour_of('C'), cv2.LINE_AA, shift=4)
        cv2.circle(canvas, head_centre, int(unit * 0.55 * 16), colour_of('C'), -1,
                   cv2.LINE_AA, shift=4)
        for a, b, side in LIMBS:
            cv2.line(canvas, pt[a], pt[b], colour_of(side), width, cv2.LINE_AA, shift=4)
        for k, side in EXTREMITIES:  # hands and feet: a blob centred on the keypoint
            cv2.circle(canvas, pt[k], int(unit * 0.3 * 16), colour_of(side), -1,
                       cv2.LINE_AA, shift=4)
    for k, colour in FACE_COLOURS.items():
        cv2.circle(image, pt[k], max(16, int(unit * 0.12 * 16)), colour, -1, cv2.LINE_AA,
                   shift=4)
    return mask > 0


def background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Muted smooth colour field plus faint stripes and pixel noise.

    Muted (mostly grey) so that the saturated limb colours stay the cue for
    left and right, as clothing and pose are for real people.
    """
    grey = rng.uniform(60, 200)
    low = grey + rng.normal(0, 25, (4, 4, 3))
    image = cv2.resize(low.astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
    if rng.random() < 0.5:
        yy, xx = np.mgrid[:size, :size]
        angle, period = rng.uniform(0, np.pi), rng.uniform(8, 40)
        stripes = np.sin((xx * np.cos(angle) + yy * np.sin(angle)) / period * 2 * np.pi)
        image += stripes[..., None] * rng.uniform(5, 20)
    image += rng.normal(0, rng.uniform(3, 10), image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def make_image(rng: np.random.Generator, size: int, max_people: int = 3,
               masks: bool = False) -> Tuple[np.ndarray, List[dict]]:
    """One image and its COCO annotations (without ids); ``masks`` adds segmentations."""
    image = background(rng, size)
    num_people = 0 if rng.random() < 0.1 else int(rng.integers(1, max_people + 1))
    figures: List[Figure] = []
    for _ in range(num_people):
        height = rng.uniform(0.6, 0.95) * size
        center = rng.uniform([0.1 * size, 0.25 * size], [0.9 * size, 0.8 * size])
        kpts = random_pose(rng, height, center)
        figures.append(Figure(kpts, draw_figure(image, kpts, height, rng)))

    annotations = []
    for i, fig in enumerate(figures):
        covered = np.zeros_like(fig.mask)
        for later in figures[i + 1:]:
            covered |= later.mask
        annotation = annotate(fig, covered, size, masks)
        if annotation is not None:
            annotations.append(annotation)
    return image, annotations


def annotate(fig: Figure, covered: np.ndarray, size: int,
             masks: bool = False) -> Optional[dict]:
    """COCO annotation of a figure: visibility 2 seen, 1 occluded, 0 outside the image.

    With ``masks``, ``segmentation`` is the RLE (COCO's uncompressed-string form) of the
    visible silhouette; ``area`` stays the person-like value that OKS needs (see below).
    """
    keypoints = np.zeros((17, 3))
    for k, (x, y) in enumerate(fig.keypoints):
        if 0 <= x < size and 0 <= y < size:
            keypoints[k] = (x, y, 1 if covered[int(y), int(x)] else 2)
    visible_mask = fig.mask & ~covered
    if visible_mask.sum() < 20 or (keypoints[:, 2] > 0).sum() == 0:
        return None
    ys, xs = np.nonzero(fig.mask)
    x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    width, height = float(x1 - x0), float(y1 - y0)
    annotation = dict(
        bbox=[float(x0), float(y0), width, height],
        # OKS scales with sqrt(area); COCO's area is a clothed person's mask, about half
        # the box, while a stick figure covers far less: use the human-like value
        area=PERSON_AREA_RATIO * width * height,
        keypoints=[round(float(v), 2) for v in keypoints.flatten()],
        num_keypoints=int((keypoints[:, 2] > 0).sum()),
        iscrowd=0,
        category_id=1)
    if masks:
        from pycocotools import mask as mask_utils
        rle = mask_utils.encode(np.asfortranarray(visible_mask.astype(np.uint8)))
        annotation['segmentation'] = dict(size=list(rle['size']),
                                          counts=rle['counts'].decode('ascii'))
    return annotation


def write_split(out_dir: Path, split: str, num_images: int, size: int, seed: int,
                masks: bool = False) -> Path:
    """Writes ``num_images`` images and their annotation file; returns the file."""
    from mmengine.utils import ProgressBar

    rng = np.random.default_rng([seed, {'train': 0, 'val': 1}.get(split, 2)])
    (out_dir / split).mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    progress = ProgressBar(num_images)
    for image_id in range(1, num_images + 1):
        image, anns = make_image(rng, size, masks=masks)
        file_name = f'{image_id:06d}.jpg'
        cv2.imwrite(str(out_dir / split / file_name), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        images.append(dict(id=image_id, file_name=file_name, width=size, height=size))
        for ann in anns:
            annotations.append(dict(ann, id=len(annotations) + 1, image_id=image_id))
        progress.update()
    print()
    ann_file = out_dir / 'annotations' / f'person_keypoints_{split}.json'
    ann_file.parent.mkdir(parents=True, exist_ok=True)
    categories = [dict(id=1, name='person', supercategory='person', keypoints=list(KEYPOINTS),
                       skeleton=COCO_SKELETON)]
    tmp = ann_file.with_suffix('.json.tmp')  # never leave a half-written file behind
    tmp.write_text(json.dumps(dict(images=images, annotations=annotations,
                                   categories=categories)))
    tmp.replace(ann_file)
    return ann_file


MAX_SIZE = 4096  # image side; larger is almost certainly a typo (and gigabytes per image)


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """argparse-style errors for values that cannot give a usable dataset."""
    if min(args.train, args.val) < 0:
        parser.error(f'--train {args.train} / --val {args.val}: image counts must be >= 0')
    if args.train == 0 and args.val == 0:
        parser.error('--train 0 --val 0 would write an empty dataset; ask for some images')
    if not 32 <= args.size <= MAX_SIZE:
        parser.error(f'--size {args.size}: the image side must be in [32, {MAX_SIZE}]')
    if args.seed < 0:
        parser.error(f'--seed {args.seed}: the seed must be >= 0 (numpy seeds are unsigned)')
    out = args.out_dir
    if out.exists() and not out.is_dir():
        parser.error(f'{out} exists and is not a folder; name a folder for the dataset')
    parent = next(p for p in (out, *out.parents) if p.exists())
    if not parent.is_dir():
        parser.error(f'cannot write into {parent}: it is a file, not a folder')
    if not os.access(parent, os.W_OK | os.X_OK):
        parser.error(f'cannot write into {parent} (permission denied); choose another OUT_DIR')


def _folder_mode() -> int:
    """The mode ``mkdir`` gives a new folder here (0o777 less the umask)."""
    umask = os.umask(0o022)  # reading the umask means setting it: put it straight back
    os.umask(umask)
    return 0o777 & ~umask


def _move_into(tmp: Path, out: Path) -> None:
    """Moves the finished splits from ``tmp`` into ``out`` (replacing the same splits)."""
    if not out.exists():
        os.replace(tmp, out)
        return
    for entry in sorted(tmp.iterdir()):
        target = out / entry.name
        if entry.name == 'annotations':
            target.mkdir(exist_ok=True)
            for ann in entry.iterdir():
                os.replace(ann, target / ann.name)
            continue
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(entry, target)
    shutil.rmtree(tmp)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(
        prog='python -m rtmo_plugin.synthetic', description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('out_dir', type=Path)
    parser.add_argument('--train', type=int, default=400, help='training images')
    parser.add_argument('--val', type=int, default=50, help='validation images')
    parser.add_argument('--size', type=int, default=256,
                        help=f'image side in pixels (32 to {MAX_SIZE})')
    parser.add_argument('--seed', type=int, default=0, help='random seed (>= 0)')
    parser.add_argument('--masks', action='store_true',
                        help='add each person\'s visible silhouette as a COCO segmentation')
    args = parser.parse_args(argv)
    _check_args(parser, args)
    # written beside the target and renamed when complete: a failure leaves nothing behind
    out = args.out_dir.absolute()
    created = [p for p in (out.parent, *out.parent.parents) if not p.exists()]
    tmp = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f'.{out.name}.partial-', dir=out.parent))
        for split, count in (('train', args.train), ('val', args.val)):
            print(f'{split}: {count} images of {args.size}x{args.size}')
            write_split(tmp, split, count, args.size, args.seed, args.masks)
            print(f'wrote {out}/annotations/person_keypoints_{split}.json')
        os.chmod(tmp, _folder_mode())  # mkdtemp makes it 0o700; the dataset is not private
        _move_into(tmp, out)
    except BaseException as err:  # incl. Ctrl-C: remove what this run wrote
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for folder in created:  # innermost first
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        if isinstance(err, (OSError, MemoryError)):
            parser.exit(1, f'{parser.prog}: error: writing {out} failed: {err}\n')
        raise
