"""``python -m rtmo_plugin.deploy {export,bench,eval}``: ONNX export, latency and AP per path.

Inference itself needs none of torch/mmcv/mmpose: ``python -m rtmo_ort MODEL IMAGES``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from rtmo_ort import count_arg, threshold_arg

from ..utils import write_atomic
from .backends import ALL_PATHS

MIN_OPSET = 11  # the graph's NonMaxSuppression


def size_arg(text: str) -> int:
    """argparse ``type=`` for an input side: a positive multiple of 32 (the largest stride)."""
    value = count_arg(1)(text)
    if value % 32:
        raise argparse.ArgumentTypeError(f'{value} is not a multiple of 32 (the largest '
                                         'stride)')
    return value


def opset_arg(text: str) -> int:
    """argparse ``type=`` for ``--opset``: ONNX's NonMaxSuppression needs 11, and torch's
    exporter writes up to its own newest opset."""
    from torch.onnx import _constants

    value = count_arg(MIN_OPSET)(text)
    if value > _constants.ONNX_MAX_OPSET:
        raise argparse.ArgumentTypeError(f'{value} is above {_constants.ONNX_MAX_OPSET}, the '
                                         "newest opset this torch's exporter writes")
    return value


def _add_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('config', help='plugin config, e.g. '
                        'configs/demo/rtmo-demo_synthetic-128x128.py')
    parser.add_argument('checkpoint', nargs='?', default=None,
                        help='checkpoint (.pth); random weights when omitted')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='python -m rtmo_plugin.deploy', description=__doc__)
    sub = parser.add_subparsers(dest='command', required=True)

    export = sub.add_parser('export', help='config + checkpoint -> ONNX with decoding and NMS',
                            description='Writes an ONNX graph: input [1, 3, H, W] float32 '
                            '(BGR, 0-255, letterboxed top-left with 114 as rtmlib does), outputs '
                            'dets [1, N, 5] and keypoints [1, N, K, 3] in input pixels.')
    _add_model_args(export)
    export.add_argument('-o', '--output', default='rtmo.onnx', help='output .onnx file')
    export.add_argument('--input-size', type=size_arg, nargs=2, metavar=('W', 'H'),
                        help='input size, multiples of 32 (default: test_cfg.input_size)')
    export.add_argument('--opset', type=opset_arg, default=17,
                        help=f'ONNX opset, at least {MIN_OPSET} (default 17)')
    export.add_argument('--score-thr', type=threshold_arg(), help='in-graph score threshold '
                        'in [0, 1] (default: test_cfg.score_thr)')
    export.add_argument('--nms-thr', type=threshold_arg(open_low=True),
                        help='in-graph NMS IoU threshold in (0, 1], 1 = no NMS '
                        '(default: test_cfg.nms_thr)')
    export.add_argument('--fuse', action='store_true',
                        help='export the deploy-time fused model (RepVGG + BN folded)')
    export.add_argument('--dynamo', action='store_true',
                        help='torch.export-based exporter instead of TorchScript tracing')

    bench = sub.add_parser('bench', help='median end-to-end latency of every inference path')
    _add_model_args(bench)
    bench.add_argument('--images', nargs='+', required=True, help='image files to time on')
    bench.add_argument('--repeats', type=count_arg(1), default=5,
                       help='timed passes over the images (at least 1)')
    bench.add_argument('--paths', nargs='+', default=list(ALL_PATHS), choices=ALL_PATHS)
    bench.add_argument('--threads', type=count_arg(1), help='torch and onnxruntime threads '
                       '(default: one per core)')

    evaluate = sub.add_parser('eval', help='COCO keypoint AP of every inference path')
    _add_model_args(evaluate)
    evaluate.add_argument('--data-root', required=True,
                          help='COCO layout: {split}/*.jpg and '
                          'annotations/person_keypoints_{split}.json')
    evaluate.add_argument('--split', default='val')
    evaluate.add_argument('--paths', nargs='+', default=list(ALL_PATHS), choices=ALL_PATHS)
    evaluate.add_argument('--json', help='also write the results to this file')
    return parser.parse_args(argv)


def write_json(path: str, data) -> None:
    """``data`` as JSON, written atomically (:func:`rtmo_plugin.utils.write_atomic`) to
    ``path``, its folder made when missing; an ``OSError`` names ``path``."""
    try:
        prepare_output(path)
        write_atomic(path, json.dumps(data, indent=2))
    except OSError as err:
        raise OSError(err.errno, f'cannot write {path} ({err.strerror or err})') from None


def refuse_overwriting_inputs(output: str, *inputs) -> None:
    """``ValueError`` when ``output`` names one of the command's own input files (``-o`` given
    the checkpoint: the graph would replace it)."""
    for name in inputs:
        if name and Path(output).exists() and Path(name).exists() and \
                os.path.samefile(output, name):
            raise ValueError(f'-o {output} is the input file {name}: writing the graph there '
                             'would replace it; give another -o')


def prepare_output(path: str) -> None:
    """Makes the folder of an output file; refuses a folder as the file. Run before the work
    so that a bad output path fails first, not after minutes of evaluation."""
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(21, f'cannot write {path} (Is a directory)')
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OSError(err.errno, f'cannot write {path} ({err.strerror or err})') from None


def run(args: argparse.Namespace) -> None:
    from .export import build_model

    if args.command == 'export':
        from .export import export_onnx
        from .fuse import fuse_for_deploy

        refuse_overwriting_inputs(args.output, args.config, args.checkpoint)

        model = build_model(args.config, args.checkpoint)
        if args.fuse:
            model = fuse_for_deploy(model)
        path = export_onnx(model, args.output, input_size=args.input_size, opset=args.opset,
                           score_thr=args.score_thr, nms_thr=args.nms_thr, dynamo=args.dynamo)
        print(f'wrote {path}')
    elif args.command == 'bench':
        from ..lab.deploy_bench import latency_rows, latency_table, load_images

        images = load_images(args.images)  # a bad file fails before the model is built
        rows = latency_rows(build_model(args.config, args.checkpoint), images,
                            args.repeats, args.paths, threads=args.threads)
        print(latency_table(rows))
    else:
        from ..lab.deploy_eval import STAT_NAMES, annotation_file, evaluate_paths, read_images

        if args.json:
            prepare_output(args.json)
        # a missing or bad annotation file fails before the model is built
        read_images(annotation_file(args.data_root, args.split))
        results = evaluate_paths(build_model(args.config, args.checkpoint), args.data_root,
                                 args.split, args.paths)
        print('| path | ' + ' | '.join(STAT_NAMES[:3]) + ' | AR | mean top score | '
              'top person kpt px vs ort_fp32 |')
        print('|---' * 7 + '|')
        for name, stats in results.items():
            print(f"| {name} | {stats['AP']:.3f} | {stats['AP50']:.3f} | {stats['AP75']:.3f} | "
                  f"{stats['AR']:.3f} | {stats['top_score']:.3f} | "
                  f"{stats.get('top_kpt_px_vs_fp32', float('nan')):.2f} |")
        if args.json:
            write_json(args.json, results)


def main(argv=None) -> int:
    """Runs one command; a missing or bad file, a failed write or a refused value is one
    ``error:`` line and exit status 1."""
    args = parse_args(argv)
    from ..checkpoint import CheckpointMismatchError
    from .export import ExportVerificationError

    try:
        run(args)
    except CheckpointMismatchError as err:  # without the library's partial=True opt-in: a
        # partly random model is nothing to deploy
        print(f'error: {err.problem}', file=sys.stderr)
        return 1
    except (OSError, ValueError, ExportVerificationError) as err:  # ValueError includes
        # rtmo_ort.ImageFileError and the checkpoint errors
        print(f'error: {err}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
