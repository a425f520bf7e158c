"""Latency against the number of people: the one-stage whole-body RTMO (one forward per image)
against the top-down RTMW (a detector, then the person crops) on synthetic whole-body images
with 1, 4 and 8 people, in one run -> one table.

    python projects/rtmw3d/tools/wholebody_latency.py [--checkpoints results/rtmw3d-wholebody2d]
        [--people 1 4 8] [--repeats 20] [--threads 2] [--out results/rtmw3d-wholebody2d]

The models are the tiny ones of configs/wholebody2d/ at 128x128: with --checkpoints, the last
checkpoints that tools/wholebody_2d.py trained there; without, random init (their speed is the
same, but an untrained one-stage model finds a random number of people). Each column is the
median of --repeats timed calls after 3 warm-up calls, through MMPose's inference API:

- one-stage: ``inference_bottomup`` of the image (the backbone, the head, NMS and the DCC of
  every person it finds);
- top-down, true boxes: ``inference_topdown`` of the image with the true person boxes (one
  batch of crops, one per person: the pose part of a top-down pipeline);
- top-down end to end: the one-stage model as the detector, then ``inference_topdown`` on the
  boxes it found with a score of at least 0.3.

Writes --out/latency.md and latency.json and prints the table and the CPU.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from functools import partial
from pathlib import Path
from typing import Callable, List

import numpy as np

from rtmo_plugin.lab import demo_runner as dr

sys.path.insert(0, str(Path(__file__).resolve().parent))
import wholebody_2d as demo  # noqa: E402  (the demo's configs and their names)

IMAGE_SIZE = 128
WARMUP = 3
DETECTION_THR = 0.3


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--checkpoints', type=Path, default=None,
                        help='the --out folder of tools/wholebody_2d.py (default: random init)')
    parser.add_argument('--people', type=int, nargs='+', default=[1, 4, 8])
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--out', type=Path, default=demo.REPO / 'results/rtmw3d-wholebody2d')
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.threads < 1 or min(args.people) < 1:
        parser.error('--repeats, --threads and every --people count must be >= 1')
    return args


def median_ms(call: Callable[[], object], repeats: int) -> float:
    """Median wall milliseconds of ``call()`` over ``repeats`` calls after ``WARMUP`` calls."""
    for _ in range(WARMUP):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def image_with(people: int, seed: int = 0):
    """A whole-body image with ``people`` figures and their true xyxy boxes ``[N, 4]``."""
    from projects.rtmw3d.rtmw3d.synthetic_wholebody import make_image

    image, annotations = make_image(np.random.default_rng([seed, people]), IMAGE_SIZE,
                                    count=people)
    boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in
                      (a['bbox'] for a in annotations)], dtype=np.float32).reshape(-1, 4)
    return image, boxes


def build_models(checkpoints: Path = None):
    """The one-stage and the top-down model (checkpoints of the demo, or random init)."""
    from mmpose.apis import init_model

    models = []
    for name in (demo.RTMO, demo.RTMW):
        cfg = demo.build_config(name, Path('.'), Path('.'))
        checkpoint = None
        if checkpoints is not None:
            checkpoint = str(dr.last_checkpoint(checkpoints / Path(name).stem))
        models.append(init_model(cfg, checkpoint, device='cpu'))
    return models


def rows(one_stage, top_down, people: List[int], repeats: int) -> List[dict]:
    from mmpose.apis import inference_bottomup, inference_topdown

    def end_to_end(image):  # the one-stage model as the detector, then the crops
        found = inference_bottomup(one_stage, image)[0].pred_instances
        boxes = found.bboxes[found.bbox_scores >= DETECTION_THR]
        return inference_topdown(top_down, image, boxes) if len(boxes) else []

    table = []
    for count in people:
        image, boxes = image_with(count)
        found = inference_bottomup(one_stage, image)[0].pred_instances
        table.append({
            'people': count, 'annotated': len(boxes),
            'one-stage ms': median_ms(partial(inference_bottomup, one_stage, image), repeats),
            'top-down, true boxes ms': median_ms(
                partial(inference_topdown, top_down, image, boxes), repeats),
            'found by the one-stage': int((found.bbox_scores >= DETECTION_THR).sum()),
            'top-down end to end ms': median_ms(partial(end_to_end, image), repeats)})
    return table


def main(argv=None) -> None:
    import torch

    import projects.rtmw3d.rtmw3d  # noqa: F401  (registers the project and the plugin)
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    one_stage, top_down = build_models(args.checkpoints)
    table = rows(one_stage, top_down, args.people, args.repeats)
    weights = f'checkpoints of {args.checkpoints}' if args.checkpoints else 'random init'
    note = (f'Median of {args.repeats} calls, {args.threads} threads, {IMAGE_SIZE}x{IMAGE_SIZE} '
            f'images, models: {weights}; {dr.machine_line()}.')
    path = dr.write_table(args.out, table, name='latency', digits=1, note=note)
    print(path.read_text())


if __name__ == '__main__':
    main()
