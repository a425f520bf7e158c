import json
import subprocess
import sys

# Runs in a fresh interpreter so that nothing imported by other tests hides a change.
SNAPSHOT = r'''
import json
import mmpose.registry as R
from mmpose.utils import register_all_modules
register_all_modules(init_default_scope=False)

def snapshot():
    return {name: {key: f'{cls.__module__}.{cls.__qualname__}'
                   for key, cls in getattr(R, name).module_dict.items()}
            for name in dir(R) if name.isupper() and hasattr(getattr(R, name), 'module_dict')}

before = snapshot()
import rtmo_plugin
after = snapshot()
print(json.dumps(dict(before=before, after=after)))
'''

PLUGIN_NAMES = {('KEYPOINT_CODECS', 'BoxSimCCLabel'), ('MODELS', 'RTMOPoseHead'),
                ('MODELS', 'MLECoordLoss'), ('HOOKS', 'KeypointMetainfoCheckHook'),
                ('HOOKS', 'ChannelsLastHook'),
                # training speed (docs/benchmarks.md, "Training step")
                ('HOOKS', 'FusedSwishHook'), ('MODELS', 'FusedGradSwish'),
                ('OPTIM_WRAPPER_CONSTRUCTORS', 'MergedGroupsOptimWrapperConstructor'),
                # reliability (docs/reliability.md)
                ('OPTIM_WRAPPERS', 'FiniteOptimWrapper'),
                ('OPTIM_WRAPPERS', 'FiniteAmpOptimWrapper'),
                ('OPTIM_WRAPPERS', 'FiniteBf16OptimWrapper'),
                ('OPTIM_WRAPPERS', 'Bf16OptimWrapper'),
                ('HOOKS', 'NonFiniteLossHook'), ('HOOKS', 'RandomStateHook'),
                ('HOOKS', 'ResumeCheckHook'),
                ('HOOKS', 'DataCheckHook'), ('HOOKS', 'InputSizeCheckHook'),
                # fine-tuning onto another keypoint set (docs/configs.md)
                ('HOOKS', 'KeypointFinetuneHook'),
                # COCO-WholeBody for bottom-up pipelines (configs/rtmo/wholebody)
                ('DATASETS', 'CocoWholeBodyBottomupDataset')}


def test_import_registers_plugin_names_and_leaves_mmpose_untouched():
    out = subprocess.run([sys.executable, '-c', SNAPSHOT], capture_output=True, text=True,
                         check=True).stdout
    snap = json.loads(out.strip().splitlines()[-1])
    before, after = snap['before'], snap['after']
    for registry, entries in before.items():
        for key, cls in entries.items():
            assert after[registry].get(key) == cls, f'{registry}.{key} changed'
    added = {(reg, key) for reg, entries in after.items() for key in entries
             if key not in before.get(reg, {})}
    assert added == PLUGIN_NAMES
    for reg, key in added:
        assert after[reg][key].startswith('rtmo_plugin.')

