# MMPose's RTMPose-t (COCO, 256x192; MMPose reports 68.2 AP) with the plugin's BoxSimCCLabel
# codec in place of SimCCLabel: same bins, labels and decoding (tests/test_codec.py), so
# everything else is MMPose's config, inherited as it is.
_base_ = ['mmpose::body_2d_keypoint/rtmpose/coco/rtmpose-t_8xb256-420e_coco-256x192.py']
custom_imports = dict(imports=['rtmo_plugin'], allow_failed_imports=False)

simcc = _base_.codec
codec = dict(type='BoxSimCCLabel', input_size=simcc.input_size, sigma=simcc.sigma,
             simcc_split_ratio=simcc.simcc_split_ratio, normalize=simcc.normalize)


def _with_codec(pipeline: list) -> list:
    return [dict(t, encoder=codec) if t['type'] == 'GenerateTarget' else t for t in pipeline]


train_pipeline = _with_codec(_base_.train_pipeline)
train_pipeline_stage2 = _with_codec(_base_.train_pipeline_stage2)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
custom_hooks = [dict(h, switch_pipeline=train_pipeline_stage2) if 'switch_pipeline' in h else h
                for h in _base_.custom_hooks]
model = dict(head=dict(decoder=dict(codec, _delete_=True)))
