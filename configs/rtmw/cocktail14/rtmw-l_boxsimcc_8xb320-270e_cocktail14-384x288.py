# MMPose's RTMW-l at 384x288 (whole-body, 133 keypoints, Cocktail14; MMPose reports 70.1
# whole-body AP on COCO-WholeBody val) with the plugin's BoxSimCCLabel codec: the plugin's
# RTMW-m config (where SimCCLabel is replaced) with what MMPose's
# `rtmw-l_8xb320-270e_cocktail14-384x288.py` changes there: input size and label sigma,
# CSPNeXt-L widths, batch 320 (auto_scale_lr base 2560) and weight decay 0.1.
# MMPose's codec also sets `decode_visibility=True`, an extra `keypoints_visible` output
# that BoxSimCCLabel does not make: keypoints, scores and the metric do not use it.
_base_ = ['./rtmw-m_boxsimcc_8xb1024-270e_cocktail14-256x192.py', '../../_base_/rtmw_sizes.py']

input_size = (288, 384)
codec = dict(_base_.model.head.decoder, input_size=input_size, sigma=(6., 6.93))


def _at_input_size(pipeline: list) -> list:
    return [dict(t, input_size=input_size) if t['type'] == 'TopdownAffine'
            else dict(t, encoder=codec) if t['type'] == 'GenerateTarget' else t
            for t in pipeline]


train_pipeline = _at_input_size(_base_.train_pipeline)
train_pipeline_stage2 = _at_input_size(_base_.train_pipeline_stage2)
val_pipeline = _at_input_size(_base_.val_pipeline)
train_dataloader = dict(batch_size=320, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
custom_hooks = [dict(h, switch_pipeline=train_pipeline_stage2) if 'switch_pipeline' in h else h
                for h in _base_.custom_hooks]
auto_scale_lr = dict(base_batch_size=2560)
optim_wrapper = dict(optimizer=dict(weight_decay=0.1))
size = _base_.rtmw_l
model = dict(
    backbone=size.backbone,
    neck=size.neck,
    head=dict(size.head, input_size=input_size,
              in_featuremap_size=tuple(s // 32 for s in input_size),
              decoder=dict(codec, _delete_=True)))
