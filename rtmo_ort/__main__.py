"""Pose estimation on images or a video with an exported RTMO graph (onnxruntime only).

Example::

    python -m rtmo_ort rtmo.onnx image.jpg other.jpg --out-dir results/
    python -m rtmo_ort rtmo.onnx video.mp4 --out-dir results/
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2

from . import RTMO, draw

VIDEO_SUFFIXES = {'.mp4', '.avi', '.mov', '.mkv', '.webm'}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='python -m rtmo_ort', description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('model', help='exported .onnx file (python -m rtmo_plugin.deploy export)')
    parser.add_argument('inputs', nargs='+', help='images, or one video file')
    parser.add_argument('--out-dir', default='results/rtmo_ort', help='where drawings go')
    parser.add_argument('--score-thr', type=float, default=0.3, help='minimum person score')
    parser.add_argument('--kpt-thr', type=float, default=0.3, help='minimum keypoint score drawn')
    parser.add_argument('--threads', type=int, default=0, help='onnxruntime threads (0 = auto)')
    return parser.parse_args(argv)


def run_video(estimator: RTMO, path: Path, out_path: Path, kpt_thr: float) -> int:
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise SystemExit(f'cannot open video {path}')
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    writer, frames = None, 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        drawn = draw(frame, estimator(frame), kpt_thr)
        if writer is None:
            writer = cv2.VideoWriter(str(out_path), cv2.VideoWriter_fourcc(*'mp4v'), fps,
                                     (frame.shape[1], frame.shape[0]))
        writer.write(drawn)
        frames += 1
    capture.release()
    if writer is not None:
        writer.release()
    return frames


def main(argv=None) -> None:
    args = parse_args(argv)
    estimator = RTMO(args.model, score_thr=args.score_thr, num_threads=args.threads)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in args.inputs:
        path = Path(name)
        if not path.is_file():
            raise SystemExit(f'{path}: no such file')
        start = time.perf_counter()
        if path.suffix.lower() in VIDEO_SUFFIXES:
            out_path = out_dir / (path.stem + '.mp4')
            frames = run_video(estimator, path, out_path, args.kpt_thr)
            took = time.perf_counter() - start
            print(f'{path}: {frames} frames, {took / max(frames, 1) * 1e3:.1f} ms/frame '
                  f'-> {out_path}')
            continue
        image = cv2.imread(str(path))
        if image is None:
            raise SystemExit(f'{path}: not an image OpenCV can read')
        poses = estimator(image)
        out_path = out_dir / (path.stem + '.jpg')
        cv2.imwrite(str(out_path), draw(image, poses, args.kpt_thr))
        print(f'{path}: {len(poses.scores)} people, '
              f'{(time.perf_counter() - start) * 1e3:.1f} ms -> {out_path}')


if __name__ == '__main__':
    main()
