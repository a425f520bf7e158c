# The stage-1 teacher: MMPose's RTMW-l (whole-body, 133 keypoints, 256x192, Cocktail14; MMPose
# reports 66.0 whole-body AP on COCO-WholeBody val) with the plugin's BoxSimCCLabel codec in
# place of SimCCLabel, the same delta as configs/rtmw/cocktail14/rtmw-m_boxsimcc_*.py.
_base_ = ['mmpose::wholebody_2d_keypoint/rtmpose/cocktail14/'
          'rtmw-l_8xb1024-270e_cocktail14-256x192.py']
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
