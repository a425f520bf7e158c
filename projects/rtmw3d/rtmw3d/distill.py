"""Between the two distillation stages: keep the student of a ``DWPoseDistiller`` checkpoint.

    python -m projects.rtmw3d.rtmw3d.distill STAGE1.pth STUDENT.pth

writes a checkpoint of the student alone (its ``student.`` keys without the prefix), which
stage 2 loads as its teacher (``model.teacher_pretrained``) and which MMPose's RTMW config
loads for inference. After stage 2 the deployable model is the teacher's backbone and neck
with the student's head: :func:`student_state` with ``merge_head=True`` builds it.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import List, Optional

import torch

import rtmo_plugin.checkpoint  # noqa: F401  (the weights_only allow-list)


def student_state(state_dict: dict, merge_head: bool = False) -> dict:
    """A pose estimator's state dict from a distiller's: ``student.*`` keys, or with
    ``merge_head`` the ``teacher.*`` backbone/neck plus the ``student.head.*`` keys."""
    student = {k[len('student.'):]: v for k, v in state_dict.items()
               if k.startswith('student.')}
    if not student:
        raise ValueError('no "student." keys in the checkpoint: is it a DWPoseDistiller '
                         'checkpoint (model.type=DWPoseDistiller)?')
    if not merge_head:
        return student
    merged = {k[len('teacher.'):]: v for k, v in state_dict.items()
              if k.startswith('teacher.') and not k.startswith('teacher.head.')}
    merged.update({k: v for k, v in student.items() if k.startswith('head.')})
    return merged


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog='python -m projects.rtmw3d.rtmw3d.distill',
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', type=Path, help='a DWPoseDistiller checkpoint')
    parser.add_argument('dst', type=Path)
    parser.add_argument('--merge-head', action='store_true',
                        help='stage 2: the teacher\'s backbone and neck with the student\'s head')
    args = parser.parse_args(argv)
    checkpoint = torch.load(args.src, map_location='cpu', weights_only=True)
    state = checkpoint.get('state_dict', checkpoint)
    torch.save(dict(state_dict=student_state(state, args.merge_head),
                    meta=checkpoint.get('meta', {})), args.dst)
    print(f'wrote {args.dst}')


if __name__ == '__main__':
    main()
