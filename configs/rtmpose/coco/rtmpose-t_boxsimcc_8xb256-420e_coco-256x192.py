# MMPose's RTMPose-t (COCO, 256x192; MMPose reports 68.2 AP) with the plugin's BoxSimCCLabel
# codec in place of SimCCLabel: same bins, labels and decoding (tests/test_codec.py), so
# everything else is MMPose's config, inherited as it is.
_base_ = ['mmpose::body_2d_keypoint/rtmpose/coco/rtmpose-t_8xb256-420e_coco-256x192.py']
custom_imports = dict(imports=['rtmo_plugin'], allow_failed_imports=False)

from rtmo_plugin.codecs.simcc_swap import boxsimcc_recipe  # noqa: E402

(codec, train_pipeline, train_pipeline_stage2, train_dataloader, custom_hooks,
 model) = boxsimcc_recipe(_base_.codec, _base_.train_pipeline, _base_.train_pipeline_stage2,
                          _base_.custom_hooks)
