"""``python -m rtmo_plugin.synthetic``: writes a synthetic dataset into a folder, atomically
(a failure leaves nothing behind); the usage is the package's docstring."""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

from .coco import write_split

MAX_SIZE = 4096  # image side; larger is almost certainly a typo (and gigabytes per image)


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """argparse-style errors for values that cannot give a usable dataset."""
    if min(args.train, args.val) < 0:
        parser.error(f'--train {args.train} / --val {args.val}: image counts must be >= 0')
    if args.train == 0 and args.val == 0:
        parser.error('--train 0 --val 0 would write an empty dataset; ask for some images')
    if not 32 <= args.size <= MAX_SIZE:
        parser.error(f'--size {args.size}: the image side must be in [32, {MAX_SIZE}]')
    if args.seed < 0:
        parser.error(f'--seed {args.seed}: the seed must be >= 0 (numpy seeds are unsigned)')
    out = args.out_dir
    if out.exists() and not out.is_dir():
        parser.error(f'{out} exists and is not a folder; name a folder for the dataset')
    parent = next(p for p in (out, *out.parents) if p.exists())
    if not parent.is_dir():
        parser.error(f'cannot write into {parent}: it is a file, not a folder')
    if not os.access(parent, os.W_OK | os.X_OK):
        parser.error(f'cannot write into {parent} (permission denied); choose another OUT_DIR')


def _folder_mode() -> int:
    """The mode ``mkdir`` gives a new folder here (0o777 less the umask)."""
    umask = os.umask(0o022)  # reading the umask means setting it: put it straight back
    os.umask(umask)
    return 0o777 & ~umask


def _move_into(tmp: Path, out: Path) -> None:
    """Moves the finished splits from ``tmp`` into ``out`` (replacing the same splits)."""
    if not out.exists():
        os.replace(tmp, out)
        return
    for entry in sorted(tmp.iterdir()):
        target = out / entry.name
        if entry.name == 'annotations':
            target.mkdir(exist_ok=True)
            for ann in entry.iterdir():
                os.replace(ann, target / ann.name)
            continue
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(entry, target)
    shutil.rmtree(tmp)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(
        prog='python -m rtmo_plugin.synthetic', description=sys.modules[__package__].__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('out_dir', type=Path)
    parser.add_argument('--train', type=int, default=400, help='training images')
    parser.add_argument('--val', type=int, default=50, help='validation images')
    parser.add_argument('--size', type=int, default=256,
                        help=f'image side in pixels (32 to {MAX_SIZE})')
    parser.add_argument('--seed', type=int, default=0, help='random seed (>= 0)')
    parser.add_argument('--masks', action='store_true',
                        help='add each person\'s visible silhouette as a COCO segmentation')
    args = parser.parse_args(argv)
    _check_args(parser, args)
    # written beside the target and renamed when complete: a failure leaves nothing behind
    out = args.out_dir.absolute()
    created = [p for p in (out.parent, *out.parent.parents) if not p.exists()]
    tmp = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f'.{out.name}.partial-', dir=out.parent))
        for split, count in (('train', args.train), ('val', args.val)):
            print(f'{split}: {count} images of {args.size}x{args.size}')
            write_split(tmp, split, count, args.size, args.seed, args.masks)
            print(f'wrote {out}/annotations/person_keypoints_{split}.json')
        os.chmod(tmp, _folder_mode())  # mkdtemp makes it 0o700; the dataset is not private
        _move_into(tmp, out)
    except BaseException as err:  # incl. Ctrl-C: remove what this run wrote
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for folder in created:  # innermost first
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        if isinstance(err, (OSError, MemoryError)):
            parser.exit(1, f'{parser.prog}: error: writing {out} failed: {err}\n')
        raise
