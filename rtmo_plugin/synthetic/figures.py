"""The synthetic stick figure: the 17 COCO keypoints of a random standing pose
(:func:`random_pose`), drawn with warm left and cool right limbs (:func:`draw_figure`) on a
muted textured background (:func:`background`)."""
from __future__ import annotations

from typing import Tuple

import cv2
import numpy as np

# COCO keypoint order; (parent, child) bones drawn as limbs, with a side: L, R or C(entre).
KEYPOINTS = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
             'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
             'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle')
LIMBS = ((5, 7, 'L'), (7, 9, 'L'), (6, 8, 'R'), (8, 10, 'R'), (11, 13, 'L'), (13, 15, 'L'),
         (12, 14, 'R'), (14, 16, 'R'))
EXTREMITIES = ((9, 'L'), (10, 'R'), (15, 'L'), (16, 'R'))  # wrists and ankles
FACE_COLOURS = {1: (0, 0, 255), 2: (255, 0, 0), 3: (0, 200, 255), 4: (255, 200, 0), 0: (0, 0, 0)}


def _rotate(angle: float) -> np.ndarray:
    return np.array([np.sin(angle), np.cos(angle)])  # 0 rad points down the image


def random_pose(rng: np.random.Generator, height: float, center: np.ndarray) -> np.ndarray:
    """17 keypoints of a standing, roughly camera-facing figure ``height`` pixels tall."""
    unit = height / 8.0  # head-heights
    tilt = rng.normal(0, 0.12)
    up = -_rotate(tilt)
    side = np.array([np.cos(tilt), -np.sin(tilt)])  # from the figure's right to its left
    hip_mid = center + up * unit * 0.2
    neck = hip_mid + up * unit * 2.9
    kpts = np.zeros((17, 2))
    half_shoulder = unit * rng.uniform(0.8, 1.05)
    half_hip = unit * rng.uniform(0.45, 0.6)
    # camera-facing: the figure's left side is on the image's right
    kpts[5], kpts[6] = neck + side * half_shoulder, neck - side * half_shoulder
    kpts[11], kpts[12] = hip_mid + side * half_hip, hip_mid - side * half_hip
    head = neck + up * unit * rng.uniform(0.9, 1.1) + side * rng.normal(0, 0.1 * unit)
    kpts[0] = head + np.array([0, 0.15 * unit])
    for eye, ear, sign in ((1, 3, 1), (2, 4, -1)):
        kpts[eye] = head + side * sign * 0.22 * unit - up * 0.05 * unit
        kpts[ear] = head + side * sign * 0.45 * unit + up * 0.05 * unit
    # limb angles from the body's down axis, positive away from the body (sign: the side)
    for shoulder, elbow, wrist, sign in ((5, 7, 9, 1), (6, 8, 10, -1)):
        upper = tilt + sign * rng.uniform(-0.2, 2.0)  # from across the chest to raised
        lower = upper + sign * rng.uniform(-0.2, 1.6)
        kpts[elbow] = kpts[shoulder] + _rotate(upper) * unit * 1.5
        kpts[wrist] = kpts[elbow] + _rotate(lower) * unit * 1.3
    for hip, knee, ankle, sign in ((11, 13, 15, 1), (12, 14, 16, -1)):
        thigh = tilt + sign * rng.uniform(-0.15, 0.6)
        shin = thigh - sign * rng.uniform(-0.1, 0.9)  # knees bend back towards the centre
        kpts[knee] = kpts[hip] + _rotate(thigh) * unit * 1.9
        kpts[ankle] = kpts[knee] + _rotate(shin) * unit * 1.8
    return kpts


def _colour(rng: np.random.Generator, hue: Tuple[int, int]) -> Tuple[int, int, int]:
    hsv = np.uint8([[[rng.integers(*hue), rng.integers(150, 256), rng.integers(150, 256)]]])
    return tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0])


def draw_figure(image: np.ndarray, kpts: np.ndarray, height: float,
                rng: np.random.Generator) -> np.ndarray:
    """Draws a figure onto ``image`` in place and returns its silhouette mask."""
    mask = np.zeros(image.shape[:2], np.uint8)
    unit = height / 8.0
    width = max(2, int(round(unit * 0.45)))
    pt = [tuple(int(round(c)) for c in p * 16) for p in kpts]  # 4 fractional bits
    colours = {'L': _colour(rng, (0, 25)), 'R': _colour(rng, (95, 125)),
               'C': _colour(rng, (40, 80))}
    torso = np.array([pt[5], pt[6], pt[12], pt[11]], np.int32)
    head_centre = tuple(int(round(c * 16)) for c in (kpts[3] + kpts[4]) / 2)
    for canvas, colour_of in ((image, lambda s: colours[s]), (mask, lambda s: 255)):
        cv2.fillPoly(canvas, [torso], colour_of('C'), cv2.LINE_AA, shift=4)
        cv2.circle(canvas, head_centre, int(unit * 0.55 * 16), colour_of('C'), -1,
                   cv2.LINE_AA, shift=4)
        for a, b, side in LIMBS:
            cv2.line(canvas, pt[a], pt[b], colour_of(side), width, cv2.LINE_AA, shift=4)
        for k, side in EXTREMITIES:  # hands and feet: a blob centred on the keypoint
            cv2.circle(canvas, pt[k], int(unit * 0.3 * 16), colour_of(side), -1,
                       cv2.LINE_AA, shift=4)
    for k, colour in FACE_COLOURS.items():
        cv2.circle(image, pt[k], max(16, int(unit * 0.12 * 16)), colour, -1, cv2.LINE_AA,
                   shift=4)
    return mask > 0


def background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Muted smooth colour field plus faint stripes and pixel noise.

    Muted (mostly grey) so that the saturated limb colours stay the cue for
    left and right, as clothing and pose are for real people.
    """
    grey = rng.uniform(60, 200)
    low = grey + rng.normal(0, 25, (4, 4, 3))
    image = cv2.resize(low.astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
    if rng.random() < 0.5:
        yy, xx = np.mgrid[:size, :size]
        angle, period = rng.uniform(0, np.pi), rng.uniform(8, 40)
        stripes = np.sin((xx * np.cos(angle) + yy * np.sin(angle)) / period * 2 * np.pi)
        image += stripes[..., None] * rng.uniform(5, 20)
    image += rng.normal(0, rng.uniform(3, 10), image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)
