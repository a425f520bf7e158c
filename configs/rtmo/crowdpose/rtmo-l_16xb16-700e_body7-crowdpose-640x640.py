# RTMO-l on CrowdPose, trained on Body7 mapped to CrowdPose's 14 keypoints (MMPose reports
# 83.8 AP on CrowdPose test; easy / medium / hard 88.8 / 84.7 / 77.2): RTMO-l's CrowdPose
# recipe with the seven-dataset mix and, as MMPose's config has it, the COCO recipe's milder
# stage-1 augmentation; the last 30 epochs train on CrowdPose alone.
_base_ = ['./rtmo-l_16xb16-700e_crowdpose-640x640.py', '../../_base_/body7_crowdpose_bottomup.py']

train_pipeline_stage1 = _base_.coco_train_pipeline_stage1
train_dataloader = dict(dataset=dict(
    _delete_=True, type='CombinedDataset', metainfo=dict(from_file=_base_.metafile),
    datasets=_base_.body7_crowdpose_datasets,
    sample_ratio_factor=_base_.body7_crowdpose_sample_ratios,
    test_mode=False, pipeline=train_pipeline_stage1))
mode_switch, *other_hooks = _base_.custom_hooks
custom_hooks = [dict(mode_switch, new_train_dataset=_base_.body7_crowdpose_final_dataset),
                *other_hooks]
