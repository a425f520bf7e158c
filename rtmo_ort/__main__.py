"""Pose estimation on images or a video with an exported RTMO graph (onnxruntime only).

Example::

    python -m rtmo_ort rtmo.onnx image.jpg other.jpg --out-dir results/
    python -m rtmo_ort rtmo.onnx video.mp4 --out-dir results/
    python -m rtmo_ort rtmo.onnx photos/ --out-dir results/

Every input is processed: each failure is printed on its own line (``error: PATH: reason``)
and makes the exit status 1. Outputs are ``OUT_DIR/<stem>.jpg`` (videos ``<stem>.mp4``);
inputs sharing a stem keep their suffix in the name (``a_jpg.jpg``, ``a_png.jpg``).
Each output is written to a temporary name in OUT_DIR, read back (an image must decode, a
video must have every frame) and only then renamed: a failed write is an error and leaves
any earlier output of that name as it was. An output that would replace one of the inputs
(``--out-dir`` the photos' own folder) is an error for that input.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Sequence, Tuple

import cv2
import numpy as np

from . import (
    RTMO,
    ImageFileError,
    count_arg,
    draw,
    new_file_mode,
    open_regular,
    read_image,
    threshold_arg,
)

VIDEO_SUFFIXES = {'.mp4', '.avi', '.mov', '.mkv', '.webm'}
IMAGE_SUFFIXES = {'.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp'}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='python -m rtmo_ort', description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('model', help='exported .onnx file (python -m rtmo_plugin.deploy export)')
    parser.add_argument('inputs', nargs='+', help='images, videos or folders of them; every '
                        'input is processed, failures are listed and make the exit status 1')
    parser.add_argument('--out-dir', default='results/rtmo_ort', help='where drawings go')
    parser.add_argument('--score-thr', type=threshold_arg(), default=0.3,
                        help='minimum person score, in [0, 1]')
    parser.add_argument('--kpt-thr', type=threshold_arg(), default=0.3,
                        help='minimum keypoint score drawn, in [0, 1]')
    parser.add_argument('--threads', type=count_arg(0), default=0,
                        help='onnxruntime threads (0 = auto)')
    return parser.parse_args(argv)



class InputError(Exception):
    """One input could not be processed; the message is the reason."""


NOT_REGULAR = 'not a regular file (a FIFO, device or socket): give an image or video file'


def expand_inputs(names: Sequence[str]) -> Tuple[List[Path], List[Tuple[str, str]]]:
    """Files to process (a directory gives its images and videos, sorted) and
    ``(input, reason)`` for inputs that are neither."""
    files, failed = [], []
    for name in names:
        path = Path(name)
        if path.is_dir():
            entries = sorted(p for p in path.iterdir()
                             if p.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES)
            found = [p for p in entries if p.is_file()]
            # a FIFO, device or socket named like an image is reported, never opened
            special = [p for p in entries if p.exists() and not p.is_file() and not p.is_dir()]
            if not found and not special:
                failed.append((name, 'a directory without images or videos '
                               f'({", ".join(sorted(IMAGE_SUFFIXES | VIDEO_SUFFIXES))})'))
            files.extend(found)
            failed.extend((str(p), NOT_REGULAR) for p in special)
        elif not path.exists():
            failed.append((name, 'no such file'))
        elif not path.is_file():
            failed.append((name, NOT_REGULAR))
        else:
            files.append(path)
    return files, failed


def output_names(files: Sequence[Path]) -> List[str]:
    """One output name per input, unique: ``a.jpg`` -> ``a.jpg``; when two inputs share a
    stem (``a.jpg`` and ``a.png``) their suffixes stay in the name (``a_jpg.jpg``,
    ``a_png.jpg``), and a counter separates what still collides (``dir1/a.jpg``, ``dir2/a.jpg``)."""
    def out_suffix(path: Path) -> str:
        return '.mp4' if path.suffix.lower() in VIDEO_SUFFIXES else '.jpg'

    groups: dict = {}
    for path in files:
        groups.setdefault(path.stem + out_suffix(path), []).append(path.suffix.lower())
    names = [p.stem + out_suffix(p) if len(set(groups[p.stem + out_suffix(p)])) == 1
             else f'{p.stem}_{p.suffix.lstrip(".").lower()}{out_suffix(p)}' for p in files]
    counts, seen = Counter(names), Counter()
    unique = []
    for name in names:
        seen[name] += 1
        unique.append(name if counts[name] == 1
                      else f'{Path(name).stem}_{seen[name]}{Path(name).suffix}')
    return unique


@contextmanager
def staged(out_path: Path) -> Iterator[Path]:
    """A temporary file beside ``out_path`` (same suffix, so OpenCV picks the same format);
    renamed to ``out_path`` when the block completes, removed if it fails. Write errors
    become :class:`InputError` naming ``out_path``."""
    try:
        fd, name = tempfile.mkstemp(prefix='.rtmo_ort-', suffix=out_path.suffix,
                                    dir=out_path.parent)
        os.close(fd)
    except OSError as err:
        raise InputError(f'cannot write in {out_path.parent}: {err.strerror}') from None
    temporary = Path(name)
    try:
        yield temporary
        with open(temporary, 'rb') as f:
            os.fsync(f.fileno())
        os.chmod(temporary, new_file_mode())
        os.replace(temporary, out_path)
    except OSError as err:
        raise InputError(f'cannot write {out_path}: {err.strerror or err}') from None
    finally:
        temporary.unlink(missing_ok=True)


def write_image(out_path: Path, image: np.ndarray) -> None:
    """Encodes, writes, reads back and renames (see :func:`staged`)."""
    try:
        ok, encoded = cv2.imencode(out_path.suffix, image)
    except cv2.error as err:
        raise InputError(
            f'cannot write {out_path}: {str(err).strip().splitlines()[-1]}') from None
    if not ok:
        raise InputError(f'cannot write {out_path} (cv2.imencode failed)')
    with staged(out_path) as temporary:
        with open(temporary, 'wb') as f:
            f.write(encoded.tobytes())
        try:
            written = read_image(temporary)
        except ImageFileError as err:
            raise InputError(f'cannot write {out_path}: what was written does not read '
                             f'back ({err.reason})') from None
        if written.shape != image.shape:
            raise InputError(f'cannot write {out_path}: it reads back as {written.shape}, '
                             f'not {image.shape}')


def count_frames(path: Path) -> int:
    """Frames OpenCV can decode from a video file (0 if it cannot open it)."""
    capture = cv2.VideoCapture(str(path))
    frames = 0
    while capture.isOpened() and capture.grab():
        frames += 1
    capture.release()
    return frames


def run_video(estimator: RTMO, path: Path, out_path: Path, kpt_thr: float) -> int:
    """Draws every frame into ``out_path`` (mp4v); returns the frame count."""
    try:  # expand_inputs checked it, but the file may have changed since
        os.close(open_regular(path))
    except ImageFileError as err:
        raise InputError(err.reason) from None
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise InputError('OpenCV cannot open it as a video')
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    with staged(out_path) as temporary:
        writer, frames = None, 0
        try:
            while True:
                ok, frame = capture.read()
                if not ok:
                    break
                drawn = draw(frame, estimator(frame), kpt_thr)
                if writer is None:
                    writer = cv2.VideoWriter(str(temporary), cv2.VideoWriter_fourcc(*'mp4v'),
                                             fps, (frame.shape[1], frame.shape[0]))
                    if not writer.isOpened():
                        raise InputError(f'cannot write {out_path} (cv2.VideoWriter failed)')
                writer.write(drawn)
                frames += 1
        finally:
            capture.release()
            if writer is not None:
                writer.release()
        if frames == 0:
            raise InputError('OpenCV read no frame from it (an empty or corrupt video)')
        written = count_frames(temporary)  # cv2.VideoWriter reports no write errors
        if written != frames:
            raise InputError(f'cannot write {out_path}: it reads back with {written} of '
                             f'{frames} frames (is the disk full?)')
    return frames


def process(estimator: RTMO, path: Path, out_path: Path, kpt_thr: float) -> str:
    """Runs one input; returns the report line or raises :class:`InputError`."""
    start = time.perf_counter()
    if path.suffix.lower() in VIDEO_SUFFIXES:
        frames = run_video(estimator, path, out_path, kpt_thr)
        took = time.perf_counter() - start
        return (f'{path}: {frames} frames, {took / max(frames, 1) * 1e3:.1f} ms/frame '
                f'-> {out_path}')
    try:
        image = read_image(path)
    except ImageFileError as err:
        raise InputError(err.reason) from None
    poses = estimator(image)
    write_image(out_path, draw(image, poses, kpt_thr))
    return (f'{path}: {len(poses.scores)} people, '
            f'{(time.perf_counter() - start) * 1e3:.1f} ms -> {out_path}')


def main(argv=None) -> int:
    """Processes every input; returns 0, 1 if any input failed, 2 if nothing could run."""
    args = parse_args(argv)
    try:
        estimator = RTMO(args.model, score_thr=args.score_thr, num_threads=args.threads)
    except Exception as err:  # onnxruntime raises its own types for non-ONNX files
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f'error: {args.model}: not a usable ONNX model ({reason})', file=sys.stderr)
        return 2
    out_dir = Path(args.out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        print(f'error: cannot create --out-dir {out_dir}: {err.strerror}', file=sys.stderr)
        return 2
    files, failed = expand_inputs(args.inputs)
    for name, reason in failed:
        print(f'error: {name}: {reason}', file=sys.stderr, flush=True)
    total = len(files) + len(failed)
    inputs = {path.resolve() for path in files}
    for path, name in zip(files, output_names(files)):
        try:
            if (out_dir / name).resolve() in inputs:  # --out-dir . beside the photos
                raise InputError(f'its drawing {out_dir / name} would replace an input file; '
                                 'give another --out-dir')
            print(process(estimator, path, out_dir / name, args.kpt_thr), flush=True)
            continue
        except InputError as err:
            reason = str(err)
        except Exception as err:  # one bad input must not stop the others
            reason = f'{type(err).__name__}: {err}'
        failed.append((str(path), reason))
        print(f'error: {path}: {reason}', file=sys.stderr, flush=True)
    if failed:
        print(f'{len(failed)} of {total} inputs failed', file=sys.stderr)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
