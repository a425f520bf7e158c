# MMPose's RTMW-m (whole-body, 133 keypoints, 256x192, trained on the 14-dataset Cocktail14
# mix; MMPose reports 58.2 whole-body AP on COCO-WholeBody val) with the plugin's
# BoxSimCCLabel codec in place of SimCCLabel; everything else is MMPose's config.
_base_ = ['mmpose::wholebody_2d_keypoint/rtmpose/cocktail14/'
          'rtmw-m_8xb1024-270e_cocktail14-256x192.py']
custom_imports = dict(imports=['rtmo_plugin'], allow_failed_imports=False)

from rtmo_plugin.codecs.simcc_swap import boxsimcc_recipe  # noqa: E402

(codec, train_pipeline, train_pipeline_stage2, train_dataloader, custom_hooks,
 model) = boxsimcc_recipe(_base_.codec, _base_.train_pipeline, _base_.train_pipeline_stage2,
                          _base_.custom_hooks)
