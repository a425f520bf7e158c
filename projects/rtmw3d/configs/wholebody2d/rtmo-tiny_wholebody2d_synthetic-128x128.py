# One-stage whole-body RTMO, tiny, for 2 CPU cores: the plugin's tiny CPU recipe (RTMO-t at 2/3
# of its width, a 128-d encoder, 128x128 input; the recipe of the plugin's demo) with the
# whole-body delta of configs/rtmo/wholebody/: the 133 COCO-WholeBody keypoints (the head reads
# their count and OKS sigmas from the metainfo), MMPose's COCO-WholeBody annotations read for
# bottom-up pipelines, CocoWholeBodyMetric. Trained from random init on the synthetic
# multi-person whole-body images that projects/rtmw3d/tools/wholebody_2d.py writes; compared
# there with the top-down rtmw-tiny_wholebody2d_synthetic-128x96.py on the same images.
_base_ = ['rtmo_plugin::_base_/rtmo_tiny-cpu-128x128.py']

metafile = 'configs/_base_/datasets/coco_wholebody.py'  # the one source of the 133 keypoints
data_root = 'data/rtmw3d-wholebody2d/'

# MMPose's CocoWholeBodyDataset with array category ids, which bottom-up FilterAnnotations
# indexes (rtmo_plugin/datasets.py)
dataset = dict(type='CocoWholeBodyBottomupDataset', data_root=data_root,
               metainfo=dict(from_file=metafile))
train_dataloader = dict(dataset=dict(
    dataset, ann_file='annotations/coco_wholebody_train.json', data_prefix=dict(img='train/')))
val_dataloader = dict(dataset=dict(
    dataset, ann_file='annotations/coco_wholebody_val.json', data_prefix=dict(img='val/')))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='CocoWholeBodyMetric', score_mode='bbox',
                     nms_mode='none', ann_file=data_root + 'annotations/coco_wholebody_val.json')
test_evaluator = val_evaluator

# SimOTA assigns by the 17 body points (the first 17 of COCO-WholeBody): over all 133 the
# small OKS sigmas of the face and hands keep every early OKS near 0 and each person gets one
# positive; assigned by the body, the same 2,000 steps end at body AP 0.39-0.45 instead of
# 0.05-0.15 (projects/rtmw3d/README.md, "Whole-body 2-D")
model = dict(head=dict(metainfo=metafile, assign_keypoints=list(range(17))))
