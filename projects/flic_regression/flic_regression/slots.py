"""FLIC's 29 keypoint slots, read from the project's metainfo file (the one source of the
keypoint set). Pure Python + numpy: the MediaPipe baseline loads this module by path in its own
environment, without MMPose."""
from __future__ import annotations

import runpy
from pathlib import Path
from typing import Dict, List

METAINFO_FILE = Path(__file__).resolve().parents[1] / 'configs' / '_base_' / 'flic_metainfo.py'
_INFO = runpy.run_path(str(METAINFO_FILE))['dataset_info']

NAMES: List[str] = [_INFO['keypoint_info'][i]['name'] for i in range(len(_INFO['keypoint_info']))]
NUM_SLOTS = len(NAMES)  # 29
INDEX: Dict[str, int] = {name: i for i, name in enumerate(NAMES)}
LABELLED: List[int] = [INDEX[name] for name in _INFO['labelled']]  # the 11 FLIC labels
# FLIC's torso size: the distance from the left shoulder to the right hip
TORSO = (INDEX['lsho'], INDEX['rhip'])
GROUPS: Dict[str, List[int]] = {
    'elbow': [INDEX['lelb'], INDEX['relb']],
    'wrist': [INDEX['lwri'], INDEX['rwri']],
}
# COCO keypoint index -> FLIC slot, for the 11 slots FLIC labels (COCO's ears are not among
# them: FLIC's ear slots are unlabelled)
FROM_COCO: Dict[int, int] = {
    0: INDEX['nose'], 1: INDEX['leye'], 2: INDEX['reye'], 5: INDEX['lsho'], 6: INDEX['rsho'],
    7: INDEX['lelb'], 8: INDEX['relb'], 9: INDEX['lwri'], 10: INDEX['rwri'], 11: INDEX['lhip'],
    12: INDEX['rhip']}

assert NUM_SLOTS == 29 and len(LABELLED) == 11, METAINFO_FILE
assert sorted(FROM_COCO.values()) == sorted(LABELLED), 'FROM_COCO must cover the labelled slots'
