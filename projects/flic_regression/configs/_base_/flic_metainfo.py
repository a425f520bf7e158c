# FLIC's 29 keypoint slots, in the order of `coords` in FLIC's examples.mat (MODEC's part
# lookup table). This file is the one source of the keypoint set: the dataset, the metric,
# the converters and the MediaPipe baseline all read it.
#
# FLIC labels 11 slots (`labelled` below); the other 18 are NaN in every example. The
# unlabelled slots stay in the model's output (29 x 2, as FLIC's layout) but get keypoint
# weight 0, so no loss or metric ever sees them. Sides are the person's own (FLIC's "l" is
# the person's left, as in COCO).
_names = [
    'lsho', 'lelb', 'lwri', 'rsho', 'relb', 'rwri', 'lhip', 'lkne', 'lank', 'rhip', 'rkne',
    'rank', 'leye', 'reye', 'lear', 'rear', 'nose', 'msho', 'mhip', 'mear', 'mtorso',
    'mluarm', 'mruarm', 'mllarm', 'mrlarm', 'mluleg', 'mruleg', 'mllleg', 'mrlleg']
_swap = dict(
    lsho='rsho', lelb='relb', lwri='rwri', lhip='rhip', lkne='rkne', lank='rank',
    leye='reye', lear='rear', mluarm='mruarm', mllarm='mrlarm', mluleg='mruleg',
    mllleg='mrlleg')
_swap.update({v: k for k, v in list(_swap.items())})
_lower = {'lhip', 'lkne', 'lank', 'rhip', 'rkne', 'rank', 'mhip', 'mluleg', 'mruleg', 'mllleg',
          'mrlleg'}


def _colour(name):
    return [255, 128, 0] if name.startswith('l') else [0, 128, 255] if name.startswith('r') \
        else [51, 153, 255]


dataset_info = dict(
    dataset_name='flic',
    paper_info=dict(
        author='Sapp, Ben and Taskar, Ben',
        title='MODEC: Multimodal Decomposable Models for Human Pose Estimation',
        container='CVPR',
        year='2013',
        homepage='https://bensapp.github.io/flic-dataset.html',
    ),
    keypoint_info={
        i: dict(name=name, id=i, color=_colour(name),
                type='lower' if name in _lower else 'upper', swap=_swap.get(name, ''))
        for i, name in enumerate(_names)
    },
    skeleton_info={
        i: dict(link=link, id=i, color=_colour(link[0]))
        for i, link in enumerate([('lsho', 'lelb'), ('lelb', 'lwri'), ('rsho', 'relb'),
                                  ('relb', 'rwri'), ('lsho', 'rsho'), ('lsho', 'lhip'),
                                  ('rsho', 'rhip'), ('lhip', 'rhip'), ('leye', 'nose'),
                                  ('reye', 'nose')])
    },
    # the 11 slots FLIC labels; the rest are NaN in examples.mat
    labelled=['lsho', 'lelb', 'lwri', 'rsho', 'relb', 'rwri', 'lhip', 'rhip', 'leye', 'reye',
              'nose'],
    joint_weights=[1.0] * len(_names),
    # not used: FLIC is scored with torso PCK (the metric of this project), not OKS
    sigmas=[0.05] * len(_names),
)
