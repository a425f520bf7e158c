"""MediaPipe Pose (legacy solution, ``mediapipe==0.10.14``, offline) on FLIC-format data,
scored with the project's metrics.

Runs in MediaPipe's own environment (``install_mediapipe.sh``: MediaPipe's protobuf<5 cannot
share the main one), so it imports neither torch nor MMPose: it loads the project's pure
modules (slots, FLIC format, metrics) by path. Each person is cropped as the top-down models
see it (:func:`flic_format.crop_box`: by default the box FLIC's torso box gives, widened to a
square about its centre as ``TopdownAffine`` widens it to a square input), MediaPipe returns
33 landmarks for the crop, and the 11 that FLIC labels go to their slots. A person MediaPipe
does not find has no prediction: wrong for PCK, left out of the MSE, counted as ``missed``.

    .venv-mediapipe/bin/python projects/flic_regression/tools/mediapipe_baseline.py \\
        --ann data/flic/examples.mat --images data/flic/images --out results/mp.json

prints the metrics and writes the predictions (29 x 2 per person, null where none) and the
metrics to ``--out``.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
from pathlib import Path

import cv2
import numpy as np

PACKAGE = Path(__file__).resolve().parents[1] / 'flic_regression'
# MediaPipe Pose landmark index of each labelled FLIC slot
MEDIAPIPE_TO_FLIC = {0: 'nose', 2: 'leye', 5: 'reye', 11: 'lsho', 12: 'rsho', 13: 'lelb',
                     14: 'relb', 15: 'lwri', 16: 'rwri', 23: 'lhip', 24: 'rhip'}


def load(name: str):
    """One of the project's pure modules, without its package (which imports MMPose)."""
    spec = importlib.util.spec_from_file_location(f'flic_pure_{name}', PACKAGE / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


slots, flic_format, pck = load('slots'), load('flic_format'), load('pck')


def square_crop(image: np.ndarray, box: np.ndarray):
    """The square around ``box`` (the longer side; zeros outside the image), its top-left and
    side: the crop ``TopdownAffine`` takes of the box for a square input."""
    centre = (box[:2] + box[2:]) / 2
    side = max(float((box[2:] - box[:2]).max()), 32.0)
    x0, y0 = centre - side / 2
    matrix = np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0]])
    size = int(math.ceil(side))
    crop = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)
    return crop, np.array([x0, y0]), side


def predict(pose, image: np.ndarray, box: np.ndarray) -> np.ndarray:
    """``[29, 2]`` frame coordinates of one person, NaN where MediaPipe gave none."""
    crop, origin, side = square_crop(image, box)
    result = pose.process(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB))
    out = np.full((slots.NUM_SLOTS, 2), np.nan)
    if result.pose_landmarks is None:
        return out
    landmarks = result.pose_landmarks.landmark
    for index, name in MEDIAPIPE_TO_FLIC.items():
        point = np.array([landmarks[index].x, landmarks[index].y]) * crop.shape[1::-1]
        out[slots.INDEX[name]] = origin + point * side / crop.shape[1]
    return out


def run(ann: Path, images: Path, split: str, model_complexity: int, crop: str = 'torsobox'):
    import mediapipe as mp
    examples = flic_format.read_examples(ann)
    examples = [examples[i] for i in flic_format.select(examples, split)]
    if not examples:
        raise SystemExit(f'{ann}: no examples in split {split!r}')
    preds = []
    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=model_complexity,
                                min_detection_confidence=0.3) as pose:
        for ex in examples:
            image = cv2.imread(str(images / ex.filepath))
            if image is None:
                raise SystemExit(f'cannot read {images / ex.filepath} (--images is the folder '
                                 'that examples.mat\'s filepath is relative to)')
            preds.append(predict(pose, image, flic_format.crop_box(ex, crop)))
    gt = np.stack([ex.coords for ex in examples])
    frame_wh = np.stack([ex.imgdims[1::-1][:2] for ex in examples]).astype(float)
    metrics = pck.flic_metrics(np.stack(preds), gt, frame_wh, slots.TORSO, slots.GROUPS)
    return examples, preds, metrics


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--ann', type=Path, required=True, help="FLIC's examples.mat")
    parser.add_argument('--images', type=Path, required=True,
                        help='folder that the examples\' filepath is relative to')
    parser.add_argument('--out', type=Path, required=True, help='predictions + metrics JSON')
    parser.add_argument('--split', default='test', choices=flic_format.SPLITS)
    parser.add_argument('--crop', default='torsobox', choices=flic_format.CROPS,
                        help="torsobox: FLIC's protocol; oracle: a box around the ground-truth "
                        'keypoints (an upper bound)')
    parser.add_argument('--model-complexity', type=int, default=1, choices=(0, 1),
                        help='0 lite, 1 full (the models the 0.10.14 wheel ships)')
    args = parser.parse_args(argv)
    examples, preds, metrics = run(args.ann, args.images, args.split, args.model_complexity,
                                   args.crop)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + '.tmp')  # renamed when complete
    tmp.write_text(json.dumps(dict(
        model=f'MediaPipe Pose (complexity {args.model_complexity})', crop=args.crop,
        metrics=metrics,
        predictions=[dict(filepath=ex.filepath, keypoints=[
            [None if math.isnan(v) else round(float(v), 2) for v in point] for point in pred])
            for ex, pred in zip(examples, preds)]), indent=1))
    print(f'MediaPipe Pose on {len(examples)} persons of {args.ann}: ' + ', '.join(
        f'{k} {v:.4f}' for k, v in metrics.items()))
    tmp.replace(args.out)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
