# Body7: the seven-dataset training mix of MMPose 1.3's RTMO Body7 configs
# (configs/body_2d_keypoint/rtmo/body7/), mapped to the 17 COCO keypoints with
# KeypointConverter. Only variables: a Body7 config inherits its COCO config and this file,
# then sets `train_dataloader.dataset` (`body7_train_dataset` with its metainfo and stage-1
# pipeline) and the pipeline switch's dataset (see rtmo/body7/).
body7_root = 'data/'


def _to_coco(dataset_type: str, ann_file: str, img: str, mapping: list) -> dict:
    return dict(type=dataset_type, data_root=body7_root, data_mode='bottomup',
                ann_file=ann_file, data_prefix=dict(img=img),
                pipeline=[dict(type='KeypointConverter', num_keypoints=17, mapping=mapping)])


def _pairs(sources: list, targets: list) -> list:
    return list(zip(sources, targets))


_coco_identity = _pairs(range(17), range(17))
body7_coco_dataset = _to_coco('CocoDataset', 'coco/annotations/person_keypoints_train2017.json',
                              'coco/train2017/', _coco_identity)
body7_datasets = [
    body7_coco_dataset,
    _to_coco('AicDataset', 'aic/annotations/aic_train.json',
             'pose/ai_challenge/ai_challenger_keypoint_train_20170902/'
             'keypoint_train_images_20170902/',
             _pairs(range(12), [6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15])),
    _to_coco('CrowdPoseDataset', 'crowdpose/annotations/mmpose_crowdpose_trainval.json',
             'pose/CrowdPose/images/', _pairs(range(12), range(5, 17))),
    _to_coco('MpiiDataset', 'mpii/annotations/mpii_train.json', 'pose/MPI/images/',
             _pairs([0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15],
                    [16, 14, 12, 11, 13, 15, 10, 8, 6, 5, 7, 9])),
    _to_coco('JhmdbDataset', 'jhmdb/annotations/Sub1_train.json', 'pose/JHMDB/',
             _pairs(range(3, 15), [6, 5, 12, 11, 8, 7, 14, 13, 10, 9, 16, 15])),
    _to_coco('HalpeDataset', 'halpe/annotations/halpe_train_v1.json',
             'pose/Halpe/hico_20160224_det/images/train2015', _coco_identity),
    _to_coco('PoseTrack18Dataset', 'posetrack18/annotations/posetrack18_train.json',
             'pose/PoseChallenge2018/', _pairs([0, *range(3, 17)], [0, *range(3, 17)])),
]
# sampling ratio of each dataset per epoch (COCO, AIC, CrowdPose, MPII, JHMDB, Halpe, PoseTrack)
body7_sample_ratios = [1, 0.3, 0.5, 0.3, 0.3, 0.4, 0.3]
# the mix as one training dataset
body7_train_dataset = dict(type='CombinedDataset', datasets=body7_datasets,
                           sample_ratio_factor=body7_sample_ratios, test_mode=False)
