"""Synthetic images in COCO-keypoints format: :func:`make_image` places 0-3 figures with
their annotations (occlusion, visibility, optional silhouette RLE), :func:`write_split`
writes a split's images and annotation file."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

import cv2
import numpy as np

from ..utils import write_atomic
from .figures import KEYPOINTS, background, draw_figure, random_pose

VERSION = 5  # bump when the images or labels change: the demo caches by it
PERSON_AREA_RATIO = 0.5  # COCO person mask area / box area is about this
COCO_SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7],
                 [6, 8], [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5],
                 [4, 6], [5, 7]]


@dataclass
class Figure:
    keypoints: np.ndarray   # [17, 2] float, image pixels (may lie outside the image)
    mask: np.ndarray        # [H, W] bool silhouette (before occlusion)


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
    # never leave a half-written file behind
    return write_atomic(ann_file, json.dumps(dict(images=images, annotations=annotations,
                                                  categories=categories)))
