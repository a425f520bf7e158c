"""3-D whole-body stick figures (133 COCO-WholeBody points), pinhole cameras, a depth-cued
renderer and the COCO-WholeBody annotation writer.

The figure model extends :func:`rtmo_plugin.synthetic.random_pose`: its 17 body points (a
frontal 2-D pose, here ``height`` metres tall) are lifted to 3-D by swinging every limb bone
out of the image plane (bone lengths kept), then feet (6), a face (68, dlib order) and two
hands (2 x 21) are attached, in COCO-WholeBody order::

    0-16 body, 17-22 feet, 23-90 face, 91-111 left hand, 112-132 right hand

Coordinates: a figure is built in a *body frame* (metres, x to the image's right when the
figure faces the camera, y down, z away from the camera), turned by a random yaw and placed
on the floor of a z-up *world frame*. Cameras follow Human3.6M's conventions: four
calibrated cameras at the room's corners looking at its centre, ``X_cam = R (X_world - T)``
(``T`` is the camera centre), intrinsics of H3.6M's cameras scaled to the rendered size.

:func:`render` draws in painter's order (far primitives first, so near limbs occlude far
ones), with line widths from the pinhole scale ``f / z`` and shades that follow depth relative to
the root (the hips' midpoint): every figure colour has the same HSV value, so a part's
brightness tells how far in front of or behind the root it is.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from rtmo_plugin.synthetic import PERSON_AREA_RATIO, background, random_pose

VERSION = 3  # bump when the figures, cameras, rendering or images change: the tools cache by it
NUM_KEYPOINTS = 133
BODY, FEET, FACE = slice(0, 17), slice(17, 23), slice(23, 91)
LEFT_HAND, RIGHT_HAND = slice(91, 112), slice(112, 133)
ROOT = (11, 12)  # the hips: the root is their midpoint
PALETTE_VALUE = 150    # HSV value of every figure colour (hue and saturation are random)
SHADE_PER_METRE = 0.9  # brightness change per metre of depth relative to the root

# H3.6M's four cameras (ids, focal lengths and principal points in pixels of 1000x1000)
H36M_CAMERAS = (
    ('54138969', (1145.04940459, 1143.78109572), (512.54150496, 515.45148698)),
    ('55011271', (1149.67569458, 1147.59161490), (508.84856140, 508.06488300)),
    ('58860488', (1149.14071600, 1148.79895358), (519.81583160, 501.40265870)),
    ('60457274', (1145.51133842, 1144.77392808), (514.96819732, 501.88201755)),
)
H36M_IMAGE_SIZE = 1000

# bones drawn for the figure (parent, child, side L/R/C); body limbs as in the 2-D model
_BODY_BONES = ((5, 7, 'L'), (7, 9, 'L'), (6, 8, 'R'), (8, 10, 'R'), (11, 13, 'L'),
               (13, 15, 'L'), (12, 14, 'R'), (14, 16, 'R'))
_FOOT_BONES = ((15, 17, 'L'), (15, 18, 'L'), (15, 19, 'L'), (16, 20, 'R'), (16, 21, 'R'),
               (16, 22, 'R'))


def _hand_bones(start: int, side: str) -> List[Tuple[int, int, str]]:
    bones = []
    for finger in range(5):
        chain = [start] + [start + 1 + 4 * finger + j for j in range(4)]
        bones += [(a, b, side) for a, b in zip(chain[:-1], chain[1:])]
    return bones


BONES = (_BODY_BONES + _FOOT_BONES + tuple(_hand_bones(91, 'L'))
         + tuple(_hand_bones(112, 'R')))


@dataclass
class Camera:
    """A pinhole camera: ``X_cam = R (X_world - T)``, pixels ``f * X_cam[:2] / z + c``."""
    name: str
    R: np.ndarray            # [3, 3] world -> camera rotation
    T: np.ndarray            # [3] camera centre in world metres
    f: np.ndarray            # [2] focal lengths in pixels
    c: np.ndarray            # [2] principal point in pixels
    size: Tuple[int, int]    # (w, h) of the image in pixels

    def to_camera(self, points_world: np.ndarray) -> np.ndarray:
        """``[..., 3]`` world metres -> ``[..., 3]`` camera metres."""
        return (points_world - self.T) @ self.R.T

    def project(self, points_cam: np.ndarray) -> np.ndarray:
        """``[..., 3]`` camera metres (z > 0) -> ``[..., 2]`` pixels."""
        return points_cam[..., :2] / points_cam[..., 2:3] * self.f + self.c


def _look_at(centre: np.ndarray, target: np.ndarray) -> np.ndarray:
    forward = (target - centre) / np.linalg.norm(target - centre)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return np.stack([right, down, forward])  # rows: camera x, y, z in world coordinates


def h36m_cameras(image_size: int = 256, distance: float = 5.0,
                 height: float = 1.5) -> List[Camera]:
    """H3.6M-like rig: its 4 intrinsics scaled to ``image_size`` square images, at the room's
    corners ``distance`` metres from the centre, ``height`` metres up, looking at (0, 0, 1)."""
    scale = image_size / H36M_IMAGE_SIZE
    cameras = []
    for i, (name, f, c) in enumerate(H36M_CAMERAS):
        angle = np.pi / 4 + i * np.pi / 2
        centre = np.array([distance * np.cos(angle), distance * np.sin(angle), height])
        cameras.append(Camera(name, _look_at(centre, np.array([0.0, 0.0, 1.0])), centre,
                              np.array(f) * scale, np.array(c) * scale,
                              (image_size, image_size)))
    return cameras


# face template (dlib 68 order) in head radii, body frame (x right, y down), z from a sphere
def _face_template() -> np.ndarray:
    def arc(cx, cy, a, b, start, stop, n):
        t = np.linspace(start, stop, n)
        return np.stack([cx + a * np.cos(t), cy + b * np.sin(t)], -1)

    jaw_t = np.linspace(-np.pi / 2 * 1.05, np.pi / 2 * 1.05, 17)
    jaw = np.stack([0.85 * np.sin(jaw_t), -0.1 + 0.85 * np.cos(jaw_t)], -1)
    brow_r = np.stack([np.linspace(-0.65, -0.15, 5), -0.45 - 0.08 * np.sin(
        np.linspace(0, np.pi, 5))], -1)
    brow_l = brow_r[::-1] * [-1, 1]
    bridge = np.stack([np.zeros(4), np.linspace(-0.35, 0.05, 4)], -1)
    nose = np.stack([np.linspace(-0.18, 0.18, 5), np.full(5, 0.15)], -1)
    eye_r = arc(-0.38, -0.25, 0.15, 0.06, np.pi, 3 * np.pi, 7)[:6]
    eye_l = arc(0.38, -0.25, 0.15, 0.06, np.pi, 3 * np.pi, 7)[:6]
    mouth_out = arc(0, 0.45, 0.3, 0.12, np.pi, 3 * np.pi, 13)[:12]
    mouth_in = arc(0, 0.45, 0.2, 0.05, np.pi, 3 * np.pi, 9)[:8]
    xy = np.concatenate([jaw, brow_r, brow_l, bridge, nose, eye_r, eye_l, mouth_out, mouth_in])
    z = -np.sqrt(np.clip(1.0 - (xy ** 2).sum(-1), 0.05, None))  # towards the camera
    z[27:31] -= np.linspace(0.05, 0.25, 4)  # the nose stands out
    z[30:36] -= 0.15
    return np.concatenate([xy, z[:, None]], -1)


FACE_TEMPLATE = _face_template()  # [68, 3]


def _rotation(yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0) -> np.ndarray:
    """Rotation of body-frame points: yaw about y (down), pitch about x, roll about z."""
    cy, sy, cp, sp, cr, sr = (np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch),
                              np.cos(roll), np.sin(roll))
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return ry @ rx @ rz


def _lift(start: np.ndarray, bone_2d: np.ndarray, angle: float) -> np.ndarray:
    """End of a bone swung ``angle`` rad out of the image plane (its length kept)."""
    length = np.linalg.norm(bone_2d)
    return start + np.array([*(bone_2d * np.cos(angle)), length * np.sin(angle)])


def _hand(rng: np.random.Generator, elbow: np.ndarray, wrist: np.ndarray, sign: int,
          scale: float) -> np.ndarray:
    """21 hand points (wrist, then thumb, index, middle, ring, pinky from base to tip)."""
    along = (wrist - elbow) / max(np.linalg.norm(wrist - elbow), 1e-6)
    normal = np.cross(along, rng.normal(size=3))
    normal /= max(np.linalg.norm(normal), 1e-6)
    lateral = np.cross(along, normal) * sign
    points = [wrist]
    bases = (0.03, 0.085, 0.09, 0.085, 0.075)      # along the hand, metres
    spread = (0.035, 0.025, 0.008, -0.01, -0.027)  # thumb side positive
    lengths = ((0.035, 0.03, 0.025, 0.02), (0.0, 0.04, 0.025, 0.02),
               (0.0, 0.045, 0.028, 0.02), (0.0, 0.042, 0.026, 0.02), (0.0, 0.032, 0.02, 0.018))
    for finger in range(5):
        point = wrist + (along * bases[finger] + lateral * spread[finger]) * scale
        direction = along + lateral * (0.8 if finger == 0 else 0.15 * (2 - finger))
        curl = rng.uniform(0.0, 0.6)
        for j in range(4):
            if j:
                direction = direction * np.cos(curl) - normal * np.sin(curl)
            direction = direction / np.linalg.norm(direction)
            point = point + direction * lengths[finger][j] * scale
            points.append(point)
    return np.stack(points)


def random_pose_3d(rng: np.random.Generator, height: Optional[float] = None) -> np.ndarray:
    """133 points ``[133, 3]`` in metres of a figure in the body frame, hips' midpoint at 0.

    The 17 body points start from :func:`random_pose`'s frontal pose; each limb bone then
    swings out of the image plane (thighs forward, shins back, arms either way), the torso
    leans, and the head turns a little.
    """
    height = rng.uniform(1.55, 1.9) if height is None else height
    scale = height / 1.75
    flat = random_pose(rng, height, np.zeros(2))
    body = np.concatenate([flat, np.zeros((17, 1))], -1)
    for a, b, c, (low, high), bend in ((5, 7, 9, (-1.0, 0.6), (-0.8, 0.8)),
                                       (6, 8, 10, (-1.0, 0.6), (-0.8, 0.8)),
                                       (11, 13, 15, (-0.6, 0.2), (0.0, 0.9)),
                                       (12, 14, 16, (-0.6, 0.2), (0.0, 0.9))):
        first = rng.uniform(low, high)
        body[b] = _lift(body[a], flat[b] - flat[a], first)
        body[c] = _lift(body[b], flat[c] - flat[b], first + rng.uniform(*bend))
    head_centre = body[[3, 4]].mean(0)
    radius = 0.11 * scale
    head_turn = _rotation(rng.normal(0, 0.3), rng.normal(0, 0.15), rng.normal(0, 0.1))
    face = head_centre + (FACE_TEMPLATE * radius) @ head_turn.T
    head = np.array([[0, 0.1, -1.05], [0.38, -0.25, -0.9], [-0.38, -0.25, -0.9],
                     [1.0, -0.1, 0.1], [-1.0, -0.1, 0.1]]) * radius
    body[0:5] = head_centre + head @ head_turn.T

    feet = []
    for ankle, sign in ((15, 1), (16, -1)):  # left foot on the image's right (+x)
        turn = _rotation(rng.normal(0, 0.25) * sign)
        offsets = np.array([[-0.03 * sign, 0.07, -0.16], [0.04 * sign, 0.07, -0.13],
                            [0.0, 0.08, 0.06]]) * scale
        feet.append(body[ankle] + offsets @ turn.T)
    hands = [_hand(rng, body[7], body[9], 1, scale), _hand(rng, body[8], body[10], -1, scale)]
    points = np.concatenate([body, *feet, face, *hands])
    points = points @ _rotation(0.0, rng.normal(0, 0.08), 0.0).T  # torso lean about the hips
    return points - points[list(ROOT)].mean(0)


def place(points_body: np.ndarray, yaw: float, position: Sequence[float]) -> np.ndarray:
    """Body-frame points -> world: turned by ``yaw`` about the vertical, the lowest point on
    the floor, the hips' midpoint above ``position`` (x, y) metres."""
    turned = points_body @ _rotation(yaw).T
    world = np.stack([turned[:, 0], turned[:, 2], -turned[:, 1]], -1)  # x, z -> y, -y -> up
    world[:, 2] -= world[:, 2].min()
    world[:, :2] += np.asarray(position, dtype=float) - world[list(ROOT), :2].mean(0)
    return world


def root_of(points: np.ndarray) -> np.ndarray:
    """The root (the hips' midpoint) of ``[..., 133, D]`` points -> ``[..., D]``."""
    return points[..., list(ROOT), :].mean(-2)


@dataclass
class Palette:
    """Colours of one figure: warm left, cool right, green centre (as the 2-D figures)."""
    left: Tuple[int, int, int]
    right: Tuple[int, int, int]
    centre: Tuple[int, int, int]

    @classmethod
    def random(cls, rng: np.random.Generator) -> Palette:
        def colour(hue):  # random hue and saturation, one value: brightness is the shade's
            hsv = np.uint8([[[rng.integers(*hue), rng.integers(150, 256), PALETTE_VALUE]]])
            return tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0])
        return cls(colour((0, 25)), colour((95, 125)), colour((40, 80)))

    def of(self, side: str) -> Tuple[int, int, int]:
        return {'L': self.left, 'R': self.right, 'C': self.centre}[side]


def _shade(colour, depth: float, root_depth: float) -> Tuple[int, ...]:
    """Brightness linear in depth relative to the root: x1.65 at 0.72 m in front of it, x0.35
    at 0.72 m behind (constant beyond)."""
    factor = float(np.clip(1.0 - (depth - root_depth) * SHADE_PER_METRE, 0.35, 1.65))
    return tuple(int(min(255, v * factor)) for v in colour)


def render(image: np.ndarray, points_cam: np.ndarray, camera: Camera, palette: Palette,
           limb_radius: float = 0.045, pieces: int = 3) -> np.ndarray:
    """Draws a figure (``[133, 3]`` camera metres) onto ``image`` in place, far parts first.

    Returns the projected keypoints ``[133, 2]`` in pixels.
    """
    pixels = camera.project(points_cam)
    depth = points_cam[:, 2]
    root_depth = float(root_of(points_cam)[2])
    focal = float(camera.f.mean())
    primitives = []  # (depth, kind, data)
    torso = [5, 6, 12, 11]
    primitives.append((depth[torso].mean(), 'poly', (pixels[torso], depth[torso].mean(), 'C')))
    head_centre = points_cam[[3, 4]].mean(0)
    primitives.append((head_centre[2], 'disc', (camera.project(head_centre), head_centre[2],
                                                 0.12, 'C')))
    for a, b, side in BONES:
        radius = limb_radius if a < 17 and b < 17 else limb_radius * 0.35
        for t0, t1 in zip(np.linspace(0, 1, pieces + 1)[:-1], np.linspace(0, 1, pieces + 1)[1:]):
            p0 = points_cam[a] + (points_cam[b] - points_cam[a]) * t0
            p1 = points_cam[a] + (points_cam[b] - points_cam[a]) * t1
            mid = (p0[2] + p1[2]) / 2
            primitives.append((mid, 'line', (camera.project(p0), camera.project(p1), mid,
                                             radius, side)))
    for k in range(FACE.start, FACE.stop):
        primitives.append((depth[k] - 0.02, 'dot', (pixels[k], depth[k])))
    for z, kind, data in sorted(primitives, key=lambda p: -p[0]):
        if kind == 'poly':
            points, z, side = data
            cv2.fillPoly(image, [np.round(points * 16).astype(np.int32)],
                         _shade(palette.of(side), z, root_depth), cv2.LINE_AA, shift=4)
        elif kind == 'disc':
            centre, z, radius, side = data
            cv2.circle(image, tuple(int(v) for v in np.round(centre * 16)),
                       max(16, int(radius * focal / z * 16)),
                       _shade(palette.of(side), z, root_depth), -1, cv2.LINE_AA, shift=4)
        elif kind == 'line':
            p0, p1, z, radius, side = data
            cv2.line(image, tuple(int(v) for v in np.round(p0 * 16)),
                     tuple(int(v) for v in np.round(p1 * 16)),
                     _shade(palette.of(side), z, root_depth),
                     max(1, int(round(2 * radius * focal / z))), cv2.LINE_AA, shift=4)
        else:
            centre, z = data
            cv2.circle(image, tuple(int(v) for v in np.round(centre * 16)), 8,
                       _shade((40, 40, 40), z, root_depth), -1, cv2.LINE_AA, shift=4)
    return pixels


def make_view(rng: np.random.Generator, camera: Camera, points_world: np.ndarray,
              palette: Palette) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Image of a placed figure seen by ``camera``: ``(image, pixels [133, 2],
    camera points [133, 3])``."""
    width, height = camera.size
    image = background(rng, max(width, height))[:height, :width].copy()
    points_cam = camera.to_camera(points_world)
    pixels = render(image, points_cam, camera, palette)
    return image, pixels, points_cam


def figure_box(pixels: np.ndarray, size: Tuple[int, int], margin: float = 0.08
               ) -> Optional[np.ndarray]:
    """xyxy box around the projected figure, padded by ``margin`` of its size and clipped to
    the image; None when the figure is not in the image."""
    x0, y0 = pixels.min(0)
    x1, y1 = pixels.max(0)
    pad = margin * max(x1 - x0, y1 - y0)
    box = np.array([x0 - pad, y0 - pad, x1 + pad, y1 + pad])
    box = np.clip(box, 0, [size[0], size[1], size[0], size[1]])
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:
        return None
    return box


# COCO-WholeBody annotations ---------------------------------------------------------------

def _part_box(points: np.ndarray, visible: np.ndarray) -> List[float]:
    if not visible.any():
        return [0.0, 0.0, 0.0, 0.0]
    x0, y0 = points[visible].min(0)
    x1, y1 = points[visible].max(0)
    return [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]


def coco_wholebody_annotation(pixels: np.ndarray, box_xyxy: np.ndarray,
                              size: Tuple[int, int],
                              occluded: Optional[np.ndarray] = None) -> dict:
    """COCO-WholeBody annotation (without ids) of 133 projected points ``[133, 2]``.

    Points inside the image are labelled visible (2), or occluded (1) where ``occluded``
    (``[133]`` bool) says so, others 0; the parts' boxes and
    ``*_valid`` flags are what MMPose's ``CocoWholeBodyDataset`` and ``CocoWholeBodyMetric``
    read; the segmentation is the person box as a polygon.
    """
    inside = ((pixels >= 0) & (pixels < np.asarray(size))).all(-1)
    seen = np.where(occluded, 1.0, 2.0) if occluded is not None else 2.0
    flat = np.concatenate([pixels, np.where(inside, seen, 0.0)[:, None]], -1)
    flat[~inside, :2] = 0

    def part(sl):
        return [round(float(v), 2) for v in flat[sl].flatten()]

    x0, y0, x1, y1 = (float(v) for v in box_xyxy)
    annotation = dict(
        bbox=[x0, y0, x1 - x0, y1 - y0], area=PERSON_AREA_RATIO * (x1 - x0) * (y1 - y0),
        segmentation=[[x0, y0, x1, y0, x1, y1, x0, y1]],  # the box: no silhouette is kept
        iscrowd=0, category_id=1, num_keypoints=int(inside[BODY].sum()),
        keypoints=part(BODY), foot_kpts=part(FEET), face_kpts=part(FACE),
        lefthand_kpts=part(LEFT_HAND), righthand_kpts=part(RIGHT_HAND))
    for name, sl in (('face', FACE), ('lefthand', LEFT_HAND), ('righthand', RIGHT_HAND)):
        annotation[f'{name}_box'] = _part_box(pixels[sl], inside[sl])
        annotation[f'{name}_valid'] = bool(inside[sl].any())
    annotation['foot_valid'] = bool(inside[FEET].any())
    return annotation


def write_coco_wholebody(ann_file: Path, images: List[dict], annotations: List[dict]) -> Path:
    """Writes a COCO-WholeBody file of ``images`` (COCO image dicts) and their annotations
    (given ``image_id``; ids are assigned here)."""
    from rtmo_plugin.synthetic import COCO_SKELETON, KEYPOINTS
    annotations = [dict(a, id=i + 1) for i, a in enumerate(annotations)]
    categories = [dict(id=1, name='person', supercategory='person', keypoints=list(KEYPOINTS),
                       skeleton=COCO_SKELETON)]
    ann_file = Path(ann_file)
    ann_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = ann_file.with_suffix('.json.tmp')  # never leave a half-written file behind
    tmp.write_text(json.dumps(dict(images=images, annotations=annotations,
                                   categories=categories)))
    tmp.replace(ann_file)
    return ann_file


def random_placement(rng: np.random.Generator) -> Tuple[float, np.ndarray]:
    """A random yaw (any direction) and floor position within 0.6 m of the room's centre
    (every camera then sees the whole figure)."""
    return rng.uniform(-np.pi, np.pi), rng.uniform(-0.6, 0.6, 2)


# Multi-person images (the 2-D whole-body demo) ----------------------------------------------

# how far a figure of make_image may turn away from its camera: the limb colours alone tell
# left from right on a figure seen from behind (and its face is hidden), which the one-stage
# model did not learn within minutes (projects/rtmw3d/README.md, "Whole-body 2-D")
MAX_TURN = np.radians(60)


def framing_camera(rng: np.random.Generator, points_world: np.ndarray, pixel_height: float,
                   centre: Sequence[float], size: int, azimuth: float) -> Camera:
    """A camera with one of H3.6M's intrinsics (scaled to ``size``) that shows the figure
    about ``pixel_height`` pixels tall with its root at pixel ``centre``: it looks at the root
    from ``azimuth`` (radians, about the vertical), 0.9-1.6 m above the floor, at the distance
    that gives that height, and its principal point is ``centre``."""
    name, focal, _ = H36M_CAMERAS[int(rng.integers(len(H36M_CAMERAS)))]
    focal = np.array(focal) * size / H36M_IMAGE_SIZE
    root = root_of(points_world)
    tall = float(np.ptp(points_world[:, 2]))
    distance = float(focal.mean()) * tall / pixel_height
    eye = root + np.array([distance * np.cos(azimuth), distance * np.sin(azimuth), 0.0])
    eye[2] = rng.uniform(0.9, 1.6)
    return Camera(name, _look_at(eye, root), eye, focal, np.asarray(centre, dtype=float),
                  (size, size))


def make_image(rng: np.random.Generator, size: int, max_people: int = 3,
               count: Optional[int] = None) -> Tuple[np.ndarray, List[dict]]:
    """One ``size`` x ``size`` image of 0-``max_people`` (or ``count``) whole-body figures and their
    COCO-WholeBody annotations (without ids), sized and placed as the plugin's 2-D synthetic
    people (:func:`rtmo_plugin.synthetic.make_image`): none in a tenth of the images, each
    0.6-0.95 of the image tall with its root anywhere in the middle, later figures in front,
    each facing the camera within ``MAX_TURN`` (as the 2-D figures face it). Each figure is a
    random 3-D pose seen by its own :func:`framing_camera`. Visibility: 2
    seen, 1 covered by a later figure, 0 outside the image; a figure with fewer than 20
    pixels left in sight is not annotated."""
    image = background(rng, size)
    if count is None:
        count = 0 if rng.random() < 0.1 else int(rng.integers(1, max_people + 1))
    figures = []  # (pixels [133, 2], silhouette [size, size] bool)
    for _ in range(count):
        world = place(random_pose_3d(rng), 0.0, (0.0, 0.0))  # facing -y, azimuth -pi/2
        pixel_height = rng.uniform(0.6, 0.95) * size
        centre = rng.uniform([0.1 * size, 0.25 * size], [0.9 * size, 0.8 * size])
        turn = rng.uniform(-MAX_TURN, MAX_TURN)
        camera = framing_camera(rng, world, pixel_height, centre, size, -np.pi / 2 + turn)
        points_cam, palette = camera.to_camera(world), Palette.random(rng)
        silhouette = np.zeros_like(image)
        render(silhouette, points_cam, camera, palette)
        figures.append((render(image, points_cam, camera, palette), silhouette.any(-1)))
    annotations = []
    for i, (pixels, silhouette) in enumerate(figures):
        covered = np.zeros_like(silhouette)
        for _, later in figures[i + 1:]:
            covered |= later
        box = figure_box(pixels, (size, size))
        if box is None or (silhouette & ~covered).sum() < 20:
            continue
        column, row = np.clip(pixels, 0, size - 1).astype(int).T
        annotations.append(coco_wholebody_annotation(pixels, box, (size, size),
                                                     occluded=covered[row, column]))
    return image, annotations


def write_coco_wholebody_split(out_dir: Path, split: str, num_images: int,
                               image_size: int = 128, seed: int = 0,
                               max_people: int = 3) -> Path:
    """``num_images`` images of :func:`make_image` in ``out_dir/split/`` and
    ``out_dir/annotations/coco_wholebody_{split}.json``."""
    rng = np.random.default_rng([seed, {'train': 0, 'val': 1}.get(split, 2), 133])
    (Path(out_dir) / split).mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for image_id in range(1, num_images + 1):
        image, people = make_image(rng, image_size, max_people)
        file_name = f'{image_id:06d}.jpg'
        path = Path(out_dir) / split / file_name
        if not cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 95]):
            raise OSError(f'could not write {path} (disk full or not writable)')
        images.append(dict(id=image_id, file_name=file_name, width=image_size,
                           height=image_size))
        annotations += [dict(person, image_id=image_id) for person in people]
    return write_coco_wholebody(
        Path(out_dir) / 'annotations' / f'coco_wholebody_{split}.json', images, annotations)
