"""The project's names are new to mmdet 3.3 and MMPose 1.3.2, and land in mmdet's registries."""
import json
import subprocess
import sys

from mask_rcnn_gcm_fixtures import REPO

NAMES = {'MODELS': ['KeypointMaskRCNNRoIHead', 'KeypointRCNNHeatmapHead',
                    'GlobalContextModule'],
         'DATASETS': ['CocoPersonKeypointDataset'],
         'TRANSFORMS': ['LoadAnnotationsWithKeypoints', 'ResizeWithKeypoints',
                        'RandomFlipWithKeypoints', 'PackDetKeypointInputs'],
         'METRICS': ['DetKeypointCocoMetric'],
         'HOOKS': ['DetKeypointDataCheckHook', 'CheckedLoadFromHook']}

# a fresh interpreter: nothing imported by other tests hides a name
PROBE = r'''
import json, sys
import mmdet.registry as D, mmpose.registry as P
from mmdet.utils import register_all_modules as det_all
from mmpose.utils import register_all_modules as pose_all
det_all(init_default_scope=False); pose_all(init_default_scope=False)
names = json.loads(sys.argv[1])
def where(name, kind):
    return [scope for scope, reg in (('mmdet', D), ('mmpose', P))
            if getattr(reg, kind).get(name) is not None]
before = {n: where(n, k) for k, ns in names.items() for n in ns}
import projects.mask_rcnn_gcm.mask_rcnn_gcm as pkg
after = {n: where(n, k) for k, ns in names.items() for n in ns}
owner = {n: getattr(D, k).get(n).__module__ for k, ns in names.items() for n in ns}
print(json.dumps(dict(before=before, after=after, owner=owner)))
'''


def test_names_are_new_and_registered_in_mmdet():
    out = subprocess.run([sys.executable, '-c', PROBE, json.dumps(NAMES)], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    for name, scopes in result['before'].items():
        assert scopes == [], f'{name} already exists in {scopes}'
    for name, scopes in result['after'].items():
        assert 'mmdet' in scopes, name
        assert result['owner'][name].startswith('projects.mask_rcnn_gcm.'), name
