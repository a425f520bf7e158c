"""A generated stand-in for ``../shared/data``: the same folders, files and formats.

``coco-mini/``: 4 multi-person images (``rtmo_plugin.synthetic``) with their COCO person
keypoints and RLE segmentations in ``person_keypoints.json``, images beside it;
``coco-wholebody-mini/coco_wholebody.json``: the same people in COCO-WholeBody format (the
17 body keypoints labelled; feet, face and hands present but unlabelled, as for many real
COCO-WholeBody people).
"""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

from rtmo_plugin.synthetic import write_split

NUM_IMAGES, SIZE, SEED = 4, 480, 7
WHOLEBODY_PARTS = (('foot_kpts', 6), ('face_kpts', 68), ('lefthand_kpts', 21),
                   ('righthand_kpts', 21))


def write_standin(root: Path) -> Path:
    """Writes ``root/coco-mini`` and ``root/coco-wholebody-mini``; returns ``root``."""
    work = root / '_generated'
    ann_file = write_split(work, 'val', NUM_IMAGES, SIZE, SEED, masks=True)
    coco = json.loads(ann_file.read_text())
    mini = root / 'coco-mini'
    mini.mkdir(parents=True, exist_ok=True)
    for image in coco['images']:
        shutil.move(str(work / 'val' / image['file_name']), mini / image['file_name'])
    shutil.rmtree(work)
    (mini / 'person_keypoints.json').write_text(json.dumps(coco))
    wholebody_dir = root / 'coco-wholebody-mini'
    wholebody_dir.mkdir(exist_ok=True)
    (wholebody_dir / 'coco_wholebody.json').write_text(json.dumps(to_wholebody(coco)))
    return root


def to_wholebody(coco: dict) -> dict:
    """COCO person keypoints -> COCO-WholeBody: the body as it is, the other parts unlabelled."""
    out = copy.deepcopy(coco)
    for ann in out['annotations']:
        for key, count in WHOLEBODY_PARTS:
            ann[key] = [0.0] * (3 * count)
        for part in ('face', 'lefthand', 'righthand'):
            ann[f'{part}_box'] = [0.0, 0.0, 0.0, 0.0]
            ann[f'{part}_valid'] = False
        ann['foot_valid'] = False
    return out
