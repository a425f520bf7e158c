# The training mix and the two validation sets of MMPose's released RTMW3D configs
# (projects/rtmpose3d/configs/rtmw3d-*_cocktail14-384x288.py there): mix_train_dataset and
# mix_val_dataset have no pipeline key, the configs that use them add theirs. Paths and keypoint mappings are MMPose's.
#
# Training: COCO-WholeBody + Halpe (whole body), AIC, CrowdPose, MPII, JHMDB, PoseTrack18
# (bodies, mapped onto the 133 points), WFLW, 300W, COFW, LaPa (faces), UBody3D (15 scenes, a
# tenth of each) and H3WB. Every 2-D sample gets z weight 0 from the codec. MMPose's file also
# defines Human-Art and InterHand2.6M entries but does not train on them; neither does this.
# Validation: H3WB's S7 (MPJPE) and COCO-WholeBody val2017 on the detector's person boxes (AP).
# Every name here is prefixed mix_ (a config inherits it beside a base with its own data keys).
mix_num_keypoints = 133
mix_data_root = 'data/'
mix_metainfo = dict(from_file='configs/_base_/datasets/coco_wholebody.py')


def _body(type_, ann_file, img, mapping, **kwargs):
    return dict(type=type_, data_root=mix_data_root, data_mode='topdown', ann_file=ann_file,
                data_prefix=dict(img=img), pipeline=[
                    dict(type='KeypointConverter', num_keypoints=mix_num_keypoints,
                         mapping=mapping)], **kwargs)


def _face(type_, ann_file, img, mapping):
    face = _body(type_, ann_file, img, mapping)
    face['pipeline'] += [
        dict(type='LoadImage', backend_args=dict(backend='local')),
        dict(type='GetBBoxCenterScale', padding=1.25),
        dict(type='RandomBBoxTransform', shift_factor=0., scale_factor=[1.5, 2.0],
             rotate_factor=0)]
    return face


def _combined(datasets):
    return dict(type='CombinedDataset', metainfo=mix_metainfo, datasets=datasets, pipeline=[],
                test_mode=False)


mix_wholebody = _combined([
    dict(type='CocoWholeBodyDataset', data_root='data/coco/', data_mode='topdown',
         ann_file='annotations/coco_wholebody_train_v1.0.json',
         data_prefix=dict(img='train2017/'), pipeline=[]),
    _body('HalpeDataset', 'halpe/annotations/halpe_train_v1.json',
          'pose/Halpe/hico_20160224_det/images/train2015',
          [(i, i) for i in range(17)]
          + [(20, 17), (21, 20), (22, 18), (23, 21), (24, 19), (25, 22)]
          + [(i, i - 3) for i in range(26, 136)]),
])
mix_bodies = _combined([
    _body('AicDataset', 'aic/annotations/aic_train.json',
          'pose/ai_challenge/ai_challenger_keypoint_train_20170902/'
          'keypoint_train_images_20170902/',
          [(0, 6), (1, 8), (2, 10), (3, 5), (4, 7), (5, 9), (6, 12), (7, 14), (8, 16),
           (9, 11), (10, 13), (11, 15)]),
    _body('CrowdPoseDataset', 'crowdpose/annotations/mmpose_crowdpose_trainval.json',
          'pose/CrowdPose/images/', [(i, i + 5) for i in range(12)]),
    _body('MpiiDataset', 'mpii/annotations/mpii_train.json', 'pose/MPI/images/',
          [(0, 16), (1, 14), (2, 12), (3, 11), (4, 13), (5, 15), (10, 10), (11, 8),
           (12, 6), (13, 5), (14, 7), (15, 9)]),
    _body('JhmdbDataset', 'jhmdb/annotations/Sub1_train.json', 'pose/JHMDB/',
          [(3, 6), (4, 5), (5, 12), (6, 11), (7, 8), (8, 7), (9, 14), (10, 13), (11, 10),
           (12, 9), (13, 16), (14, 15)]),
    _body('PoseTrack18Dataset', 'posetrack18/annotations/posetrack18_train.json',
          'pose/PoseChallenge2018/', [(0, 0)] + [(i, i) for i in range(3, 17)]),
])
mix_faces = _combined([
    _face('WFLWDataset', 'wflw/annotations/face_landmarks_wflw_train.json',
          'pose/WFLW/images/',
          [(i * 2, 23 + i) for i in range(17)] + [(33 + i, 40 + i) for i in range(5)]
          + [(42 + i, 45 + i) for i in range(5)] + [(51 + i, 50 + i) for i in range(9)]
          + [(60, 59), (61, 60), (63, 61), (64, 62), (65, 63), (67, 64), (68, 65),
             (69, 66), (71, 67), (72, 68), (73, 69), (75, 70)]
          + [(76 + i, 71 + i) for i in range(20)]),
    _face('Face300WDataset', '300w/annotations/face_landmarks_300w_train.json',
          'pose/300w/images/', [(i, 23 + i) for i in range(68)]),
    _face('COFWDataset', 'cofw/annotations/cofw_train.json', 'pose/COFW/images/',
          [(0, 40), (2, 44), (4, 42), (1, 49), (3, 45), (6, 47), (8, 59), (10, 62), (9, 68),
           (11, 65), (18, 54), (19, 58), (20, 53), (21, 56), (22, 71), (23, 77), (24, 74),
           (25, 85), (26, 89), (27, 80), (28, 31)]),
    _face('LapaDataset', 'LaPa/annotations/lapa_trainval.json', 'pose/LaPa/',
          [(i * 2, 23 + i) for i in range(17)] + [(33 + i, 40 + i) for i in range(5)]
          + [(42 + i, 45 + i) for i in range(5)] + [(51 + i, 50 + i) for i in range(4)]
          + [(58 + i, 54 + i) for i in range(5)]
          + [(66, 59), (67, 60), (69, 61), (70, 62), (71, 63), (73, 64), (75, 65),
             (76, 66), (78, 67), (79, 68), (80, 69), (82, 70)]
          + [(84 + i, 71 + i) for i in range(20)]),
])
mix_ubody_scenes = ['Magic_show', 'Entertainment', 'ConductMusic', 'Online_class', 'TalkShow',
                    'Speech', 'Fitness', 'Interview', 'Olympic', 'TVShow', 'Singing',
                    'SignLanguage', 'Movie', 'LiveVlog', 'VideoConference']
mix_ubody3d = [
    dict(type='UBody3dDataset', data_root='data/UBody/',
         ann_file=f'annotations/{scene}/train_3dkeypoint_annotation.json', data_mode='topdown',
         causal=True, seq_len=1, data_prefix=dict(img='images/'), subset_frac=0.1,
         pipeline=[])
    for scene in mix_ubody_scenes]
mix_h3wb = dict(type='CheckedH3WBDataset', ann_file='annotation_body3d/h3wb_train_bbox.npz',
                seq_len=1, causal=True, data_root='data/h36m/', data_prefix=dict(img='images/'),
                test_mode=False, pipeline=[])
mix_train_dataset = dict(type='CombinedDataset', datasets=[
    mix_wholebody, mix_bodies, mix_faces, *mix_ubody3d, mix_h3wb],
    metainfo=dict(from_file='configs/_base_/datasets/h3wb.py'), test_mode=False)

# validation: H3WB (MPJPE, as MMPose's config validates) and COCO-WholeBody (AP, the set
# MMPose's config leaves commented out), one metric per dataset (MMPose's
# MultiDatasetEvaluator routes each sample by its dataset's name)
mix_coco_val_ann = 'data/coco/annotations/coco_wholebody_val_v1.0.json'
mix_val_datasets = [
    dict(mix_h3wb, test_mode=True),
    dict(type='CocoWholeBodyDataset', data_root='data/coco/', data_mode='topdown',
         ann_file='annotations/coco_wholebody_val_v1.0.json', data_prefix=dict(img='val2017/'),
         bbox_file='data/coco/person_detection_results/'
                   'COCO_val2017_detections_AP_H_56_person.json',
         test_mode=True, pipeline=[])]
mix_val_dataset = dict(type='CombinedDataset', datasets=mix_val_datasets,
                       metainfo=dict(from_file='configs/_base_/datasets/h3wb.py'),
                       test_mode=True)
mix_val_evaluator = dict(
    type='MultiDatasetEvaluator',
    metrics=[dict(type='SimpleMPJPE', mode='mpjpe'),
             dict(type='ImageCocoWholeBodyMetric', ann_file=mix_coco_val_ann)],
    datasets=mix_val_datasets)
