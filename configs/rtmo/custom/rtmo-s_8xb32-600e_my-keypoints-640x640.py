# RTMO-s on a keypoint set of your own (README, "Your own keypoints"): name the metainfo
# file once; the head takes the keypoint count and OKS sigmas from it, the datasets the
# flip pairs and skeleton, the metric the sigmas. Data: a COCO-format keypoint dataset.
_base_ = ['../../_base_/rtmo_coco-640x640.py']

# {{fileDirname}} is this config's folder: the path works from any working directory
metafile = '{{fileDirname}}/my_keypoints_metainfo.py'
data_root = 'data/my_dataset/'

dataset = dict(type='CocoDataset', metainfo=dict(from_file=metafile), data_root=data_root,
               data_prefix=dict(img='images/'))
train_dataloader = dict(dataset=dict(dataset, ann_file='annotations/train.json'))
val_dataloader = dict(dataset=dict(dataset, ann_file='annotations/val.json'))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator

model = dict(head=dict(metainfo=metafile))
# Small dataset: start from the released COCO RTMO-s (17 keypoints); its keypoint-specific head
# layers are re-initialised for your set and the log lists what loaded (docs/configs.md,
# "Fine-tuning from a checkpoint of another keypoint set"):
# load_from = 'https://download.openmmlab.com/mmpose/v1/projects/rtmo/rtmo-s_8xb32-600e_coco-640x640-8db55a59_20231211.pth'  # noqa: E501
