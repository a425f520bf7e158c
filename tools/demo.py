"""Smoke demo: build RTMO from a plugin config and run it on one image.

    python tools/demo.py [--config CONFIG] [--image IMAGE] [--checkpoint CKPT] [--out DIR]

Without a checkpoint the weights are random, so the drawing shows the pipeline
working end to end, not a trained model.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO / 'configs/rtmo/coco/rtmo-s_8xb32-600e_coco-640x640.py'
DEFAULT_IMAGE = REPO.parent / 'shared/data/coco-mini/000000196141.jpg'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', type=Path, default=DEFAULT_CONFIG)
    parser.add_argument('--image', type=Path, default=DEFAULT_IMAGE,
                        help='image to run on (default: a real COCO image from ../shared/data; '
                        'a synthetic image if that is missing)')
    parser.add_argument('--checkpoint', type=Path, default=None)
    parser.add_argument('--out', type=Path, default=REPO / 'results' / 'smoke')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    import mmcv
    from mmengine.config import Config
    from mmpose.apis import inference_bottomup, init_model
    from mmpose.registry import VISUALIZERS

    cfg = Config.fromfile(str(args.config))
    cfg.model.backbone.init_cfg = None  # no pretrained download for the smoke run
    model = init_model(cfg, str(args.checkpoint) if args.checkpoint else None, device='cpu')

    if args.image.is_file():
        image = mmcv.imread(str(args.image))
    else:
        print(f'{args.image} not found, using a synthetic image')
        image = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    result = inference_bottomup(model, image)[0]

    args.out.mkdir(parents=True, exist_ok=True)
    visualizer = VISUALIZERS.build(dict(type='PoseLocalVisualizer', name='rtmo_demo'))
    visualizer.set_dataset_meta(model.dataset_meta)
    out_file = args.out / 'prediction.jpg'
    visualizer.add_datasample('prediction', mmcv.bgr2rgb(image), data_sample=result,
                              draw_gt=False, draw_bbox=True, kpt_thr=0.3, show=False,
                              out_file=str(out_file))
    people = len(result.pred_instances)
    print(f'RTMO ({args.config.name}) found {people} candidate people; drawing: {out_file}')


if __name__ == '__main__':
    main()
