# An example keypoint set of your own: 7 upper-body keypoints. Copy this file, describe
# your keypoints, and point `metafile` of your config at it (see rtmo-s_..._my-keypoints).
# Every keypoint needs a name, a `swap` partner ('' if none; used for horizontal flips)
# and a colour; `sigmas` are the OKS falloffs (COCO's values for these joints; for new
# kinds of points start from a similar COCO joint: larger = more tolerant).
dataset_info = dict(
    dataset_name='my_keypoints',
    paper_info=dict(),
    keypoint_info={
        0: dict(name='nose', id=0, color=[51, 153, 255], type='upper', swap=''),
        1: dict(name='left_shoulder', id=1, color=[0, 255, 0], type='upper',
                swap='right_shoulder'),
        2: dict(name='right_shoulder', id=2, color=[255, 128, 0], type='upper',
                swap='left_shoulder'),
        3: dict(name='left_elbow', id=3, color=[0, 255, 0], type='upper', swap='right_elbow'),
        4: dict(name='right_elbow', id=4, color=[255, 128, 0], type='upper', swap='left_elbow'),
        5: dict(name='left_wrist', id=5, color=[0, 255, 0], type='upper', swap='right_wrist'),
        6: dict(name='right_wrist', id=6, color=[255, 128, 0], type='upper', swap='left_wrist'),
    },
    skeleton_info={
        0: dict(link=('left_shoulder', 'right_shoulder'), id=0, color=[51, 153, 255]),
        1: dict(link=('left_shoulder', 'left_elbow'), id=1, color=[0, 255, 0]),
        2: dict(link=('left_elbow', 'left_wrist'), id=2, color=[0, 255, 0]),
        3: dict(link=('right_shoulder', 'right_elbow'), id=3, color=[255, 128, 0]),
        4: dict(link=('right_elbow', 'right_wrist'), id=4, color=[255, 128, 0]),
        5: dict(link=('nose', 'left_shoulder'), id=5, color=[51, 153, 255]),
        6: dict(link=('nose', 'right_shoulder'), id=6, color=[51, 153, 255]),
    },
    joint_weights=[1.0, 1.0, 1.0, 1.2, 1.2, 1.5, 1.5],
    sigmas=[0.026, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062])
