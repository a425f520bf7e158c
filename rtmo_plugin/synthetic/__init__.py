"""Deterministic synthetic multi-person dataset in COCO-keypoints format.

Each image shows 0-3 stick figures with the 17 COCO keypoints: random pose,
scale, position and depth order (later figures occlude earlier ones), cut by
the image border, on a noisy textured background. Left limbs are drawn in warm
and right limbs in cool colours, so left and right can be told apart (do not
train with flip augmentation: a mirrored image would swap the colour cue).

    python -m rtmo_plugin.synthetic OUT_DIR [--train 400] [--val 50] [--size 256] [--seed 0]
        [--masks]

writes ``OUT_DIR/{train,val}/*.jpg`` and ``OUT_DIR/annotations/person_keypoints_{train,val}.json``
(with ``--masks``, each person also gets a COCO ``segmentation``: the RLE of its visible
silhouette).

This module is the one figure model and renderer of the repository: the projects under
``projects/`` write their own formats (COCO-WholeBody, FLIC ``.mat``, H3WB ``.npz``) from
:func:`random_pose`, :func:`draw_figure`, :func:`background` and :func:`make_image`.
"""
# figures: pose model and renderer; coco: images with COCO annotations, the split writer;
# cli: the command (its help is this docstring)
from .cli import main
from .coco import (
    COCO_SKELETON,
    PERSON_AREA_RATIO,
    VERSION,
    Figure,
    annotate,
    make_image,
    write_split,
)
from .figures import (
    EXTREMITIES,
    FACE_COLOURS,
    KEYPOINTS,
    LIMBS,
    background,
    draw_figure,
    random_pose,
)

__all__ = ['COCO_SKELETON', 'EXTREMITIES', 'FACE_COLOURS', 'KEYPOINTS', 'LIMBS',
           'PERSON_AREA_RATIO', 'VERSION', 'Figure', 'annotate', 'background', 'draw_figure',
           'main', 'make_image', 'random_pose', 'write_split']
