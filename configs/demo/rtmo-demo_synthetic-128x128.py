# The main-job demo: the tiny CPU recipe (configs/_base_/rtmo_tiny-cpu-128x128.py: RTMO-t at
# 2/3 of its width, a 128-d encoder, 128x128) trained from scratch on the package's synthetic
# dataset (`python -m rtmo_plugin.synthetic`), on a CPU, in minutes. Only the data is stated
# here.
_base_ = ['../_base_/rtmo_tiny-cpu-128x128.py']

data_root = 'data/synthetic/'
train_dataloader = dict(dataset=dict(
    data_root=data_root, ann_file='annotations/person_keypoints_train.json',
    data_prefix=dict(img='train/')))
val_dataloader = dict(dataset=dict(
    data_root=data_root, ann_file='annotations/person_keypoints_val.json',
    data_prefix=dict(img='val/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/person_keypoints_val.json')
test_evaluator = val_evaluator
