# One-stage whole-body RTMO: RTMO-m predicting the 133 COCO-WholeBody keypoints (body, feet,
# face, hands) for every person in one pass, evaluated with MMPose's CocoWholeBodyMetric.
# NOT an official model: MMPose publishes no whole-body RTMO, so there is no reference AP.
# Hyper-parameters are RTMO-m's COCO recipe (the head scales its keypoint branches, DCC and OKS
# terms with the metainfo); the keypoint set, the data and the assignment by the body differ.
_base_ = ['../coco/rtmo-m_16xb16-600e_coco-640x640.py']

metafile = 'configs/_base_/datasets/coco_wholebody.py'  # the one source of the 133 keypoints
data_root = 'data/'

# MMPose's CocoWholeBodyDataset with array category ids, which the second stage's
# FilterAnnotations indexes (rtmo_plugin/datasets.py)
dataset = dict(type='CocoWholeBodyBottomupDataset', metainfo=dict(from_file=metafile))
train_dataloader = dict(dataset=dict(
    dataset, ann_file='coco/annotations/coco_wholebody_train_v1.0.json'))
val_dataloader = dict(dataset=dict(
    dataset, ann_file='coco/annotations/coco_wholebody_val_v1.0.json'))
test_dataloader = val_dataloader

val_evaluator = dict(_delete_=True, type='CocoWholeBodyMetric', score_mode='bbox',
                     nms_mode='none',
                     ann_file=data_root + 'coco/annotations/coco_wholebody_val_v1.0.json')
test_evaluator = val_evaluator

# SimOTA assigns by the 17 body points (COCO-WholeBody's first 17): over all 133, the small
# OKS sigmas of the face and hands keep early OKS near 0, one positive per person
model = dict(head=dict(metainfo=metafile, assign_keypoints=list(range(17))))
