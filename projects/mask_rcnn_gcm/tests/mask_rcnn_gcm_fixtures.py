"""Small data for the mask_rcnn_gcm tests: the real coco-mini set, or synthetic people."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PROJECT = REPO / 'projects' / 'mask_rcnn_gcm'
SHARED_DATA = Path(os.environ.get('RTMO_SHARED_DATA', REPO.parent / 'shared' / 'data'))


@dataclass
class TinyCoco:
    """A COCO person-keypoints set with segmentations: ``root/ann_file``, images in
    ``root/img_prefix``."""
    root: Path
    ann_file: str
    img_prefix: str
    real: bool

    @property
    def ann_path(self) -> str:
        return str(self.root / self.ann_file)


def tiny_coco(tmp_dir: Path) -> TinyCoco:
    """``../shared/data/coco-mini`` (4 photographs, masks, keypoints) when present; else 4
    synthetic 160-pixel images with masks written into ``tmp_dir``."""
    real = SHARED_DATA / 'coco-mini'
    if (real / 'person_keypoints.json').is_file():
        return TinyCoco(real, 'person_keypoints.json', '', True)
    from rtmo_plugin.synthetic import write_split
    ann = write_split(tmp_dir, 'train', 4, 160, seed=3, masks=True)
    return TinyCoco(tmp_dir, str(ann.relative_to(tmp_dir)), 'train/', False)
