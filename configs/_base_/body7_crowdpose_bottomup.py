# Body7 mapped to CrowdPose's 14 keypoints: the training mix of MMPose 1.3's
# `configs/body_2d_keypoint/rtmo/crowdpose/rtmo-l_16xb16-700e_body7-crowdpose-640x640.py`.
# Only variables, derived from body7_bottomup.py (the one place each dataset's keypoints are
# matched to COCO's): CrowdPose's keypoints 0-11 are COCO's 5-16 (shoulders to ankles), so each
# dataset's COCO mapping is followed on to CrowdPose; 12 (top of the head) and 13 (neck) come
# from the datasets that label them, as in MMPose's config.
_base_ = ['./body7_bottomup.py']

_crowdpose_from_coco = {coco: index for index, coco in enumerate(range(5, 17))}
_head_top_and_neck = dict(  # (source keypoint, CrowdPose keypoint)
    AicDataset=[(12, 12), (13, 13)], CrowdPoseDataset=[(12, 12), (13, 13)],
    MpiiDataset=[(9, 12), (7, 13)], JhmdbDataset=[(2, 12), (0, 13)],
    PoseTrack18Dataset=[(2, 12), (1, 13)])


def _to_crowdpose(dataset: dict) -> dict:
    (converter,) = dataset['pipeline']
    mapping = [(source, _crowdpose_from_coco[coco]) for source, coco in converter['mapping']
               if coco in _crowdpose_from_coco]
    mapping += _head_top_and_neck.get(dataset['type'], [])
    return dict(dataset, pipeline=[dict(converter, num_keypoints=14, mapping=mapping)])


# COCO, AIC, CrowdPose, MPII, JHMDB, Halpe, PoseTrack18 (body7_bottomup.py's order)
body7_crowdpose_datasets = [_to_crowdpose(dataset) for dataset in _base_.body7_datasets]
# CrowdPose is sampled in full here (0.5 in the COCO-keypoint mix)
body7_crowdpose_sample_ratios = [1, 0.3, 1, 0.3, 0.3, 0.4, 0.3]
# the last epochs train on CrowdPose alone
body7_crowdpose_final_dataset = body7_crowdpose_datasets[2]
