"""``load_from`` a checkpoint of another keypoint set: what fits loads, the rest is listed.

mmengine's ``Runner.load_checkpoint`` (what ``load_from`` runs) loads with ``strict=False``:
torch skips every tensor whose shape differs and mmengine logs one warning listing those, the
missing and the unexpected keys, whatever the cause. Training then goes on with a partly
loaded model, whether the checkpoint has another keypoint set (expected when fine-tuning) or
another model size (a mistake).

:class:`KeypointFinetuneHook` runs in ``after_load_checkpoint``, before mmengine loads the
tensors, when a training run starts from ``load_from``. It sorts the checkpoint's tensors:

- loaded: key and shape match the model (backbone, neck, every head tensor independent of
  the keypoint count K);
- keypoint-specific: only the first dimension differs, and it is the same multiple of the
  keypoint count in both (``f * K_checkpoint`` vs ``f * K_model``: RTMO's keypoint
  regression and visibility outputs, the DCC's keypoint embeddings, pose-to-keypoint layer
  and deviation layer, the OKS sigmas). These keep the model's fresh initialisation: the
  hook puts the model's own tensors into the checkpoint's state dict, so mmengine copies
  them back unchanged and its loader sees no shape mismatch;
- missing from the checkpoint (kept as initialised) and checkpoint tensors the model does
  not have (unused).

It logs the three groups (loaded ones per module prefix) and raises
:class:`~rtmo_plugin.checkpoint.CheckpointMismatchError` for any other shape mismatch, or
when nothing would load: a checkpoint of another model size or architecture stays an
error, as in ``tools/test.py`` and ``build_model``. Resuming and testing are left to
mmengine (a resumed checkpoint is the run's own; ``tools/test.py`` checks its checkpoint).
"""
from __future__ import annotations

import logging
import numbers
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.runner import BaseLoop
from mmpose.registry import HOOKS

from ..checkpoint import CheckpointMismatchError
from ..utils import unwrap

Shape = Tuple[int, ...]


@dataclass
class KeypointTransfer:
    """How a checkpoint's state dict maps onto a model with ``num_keypoints`` keypoints."""

    num_keypoints: int                       # the model's K
    ckpt_keypoints: Optional[int] = None     # the checkpoint's K (None: same tensors)
    loaded: List[str] = field(default_factory=list)
    keypoint_specific: List[Tuple[str, Shape, Shape]] = field(default_factory=list)
    other_shapes: List[Tuple[str, Shape, Shape]] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)     # model keys not in the checkpoint
    unused: List[str] = field(default_factory=list)      # checkpoint keys not in the model

    @property
    def reinitialised(self) -> List[str]:
        return [key for key, _, _ in self.keypoint_specific] + self.missing


def _keypoint_factor(ckpt: Shape, model: Shape, num_keypoints: int) -> Optional[int]:
    """``K_checkpoint`` when only dim 0 differs and is ``f * K`` in both shapes, else None."""
    if len(ckpt) != len(model) or not ckpt or ckpt[1:] != model[1:]:
        return None
    factor, rest = divmod(model[0], num_keypoints)
    if rest or ckpt[0] % factor:
        return None
    return ckpt[0] // factor


def sort_state_dict(own: Dict[str, torch.Tensor], state_dict: Dict[str, torch.Tensor],
                    num_keypoints: int, ckpt_keypoints: Optional[int] = None) -> KeypointTransfer:
    """Sorts ``state_dict``'s tensors (keys without ``module.``) against the model's ``own``.

    ``ckpt_keypoints`` is the checkpoint's keypoint count when its meta records it; else the
    count most shape mismatches agree on. Mismatches that do not scale with it are
    ``other_shapes``.
    """
    result = KeypointTransfer(num_keypoints, missing=sorted(set(own) - set(state_dict)),
                              unused=sorted(set(state_dict) - set(own)))
    mismatched = []
    for key in (k for k in own if k in state_dict):  # the model's order: modules stay together
        ckpt, mine = tuple(state_dict[key].shape), tuple(own[key].shape)
        if ckpt == mine:
            result.loaded.append(key)
        else:
            mismatched.append((key, ckpt, mine))
    counts = Counter(_keypoint_factor(c, m, num_keypoints) for _, c, m in mismatched)
    counts.pop(None, None)
    if ckpt_keypoints is None and counts:
        ckpt_keypoints = counts.most_common(1)[0][0]
    if ckpt_keypoints != num_keypoints:
        result.ckpt_keypoints = ckpt_keypoints
    for item in mismatched:
        ckpt_k = _keypoint_factor(item[1], item[2], num_keypoints)
        specific = ckpt_k is not None and ckpt_k == result.ckpt_keypoints
        (result.keypoint_specific if specific else result.other_shapes).append(item)
    return result


def module_groups(keys: List[str]) -> List[Tuple[str, int]]:
    """``(prefix, count)`` per module: a key's names up to its first index, at most 3 deep."""
    def prefix(key: str) -> str:
        names = []
        for name in key.split('.')[:-1]:
            if name.isdigit() or len(names) == 3:
                break
            names.append(name)
        return '.'.join(names) or key
    return list(Counter(prefix(key) for key in keys).items())


def describe(transfer: KeypointTransfer, name: str) -> str:
    """The log message: loaded per module, re-initialised with the reason, unused."""
    def shape(s: Shape) -> str:
        return str(list(s))
    ckpt_k = transfer.ckpt_keypoints
    change = (f'keypoints {ckpt_k} (checkpoint) -> {transfer.num_keypoints} (model)'
              if ckpt_k else f'{transfer.num_keypoints} keypoints in both')
    lines = [f'load_from {name}: {change}; {len(transfer.loaded)} tensors loaded, '
             f'{len(transfer.reinitialised)} re-initialised, {len(transfer.unused)} '
             'checkpoint tensors unused',
             'loaded (the checkpoint\'s values), per module: ' + ', '.join(
                 f'{prefix} ({count})' for prefix, count in module_groups(transfer.loaded))]
    lines += [f're-initialised {key}: keypoint-specific, shape mismatch: checkpoint '
              f'{shape(ckpt)} vs model {shape(model)}'
              for key, ckpt, model in transfer.keypoint_specific]
    lines += [f're-initialised {key}: missing in the checkpoint' for key in transfer.missing]
    lines += [f'unused checkpoint tensor {key}: not in the model' for key in transfer.unused]
    return '\n'.join(lines)


def head_keypoints(head) -> int:
    """The keypoint count of a pose head: ``num_keypoints`` (RTMO, RTMW3D), ``num_joints``
    (MMPose's ``RegressionHead``) or ``out_channels`` (``RTMCCHead``, heatmap heads)."""
    for name in ('num_keypoints', 'num_joints', 'out_channels'):
        count = getattr(head, name, None)
        if isinstance(count, numbers.Integral):
            return int(count)
    raise AttributeError(f'KeypointFinetuneHook: {type(head).__name__} names its keypoint '
                         'count by none of num_keypoints, num_joints, out_channels; set '
                         'default_hooks.keypoint_finetune=None for this head')


@HOOKS.register_module()
class KeypointFinetuneHook(Hook):
    """Fine-tunes from a checkpoint of another keypoint set (``load_from``), listing what
    loaded, what was re-initialised and why; any other mismatch is an error.

    The plugin's RTMO base config registers it as ``default_hooks.keypoint_finetune``: a
    config needs only ``load_from``. Removing it (``keypoint_finetune=None``) gives
    mmengine's plain ``strict=False`` load.
    """

    # before EMAHook (priority 49), which copies the checkpoint's state dict into its average
    priority = 'VERY_HIGH'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if runner._resume or not isinstance(runner._train_loop, BaseLoop):
            return  # resuming its own checkpoint, or testing: mmengine / tools/test.py
        model = unwrap(runner.model)
        state_dict = checkpoint.get('state_dict', checkpoint)
        spelled = {re.sub(r'^module\.', '', key): key for key in state_dict}
        own = model.state_dict()
        meta_k = (checkpoint.get('meta') or {}).get('dataset_meta', {}) or {}
        transfer = sort_state_dict(
            own, {key: state_dict[k] for key, k in spelled.items()},
            head_keypoints(model.head), meta_k.get('num_keypoints'))
        name = runner._load_from
        if transfer.other_shapes or not transfer.loaded:
            raise CheckpointMismatchError(_refusal(transfer, name))
        for key, _, _ in transfer.keypoint_specific:  # mmengine copies the model's own back
            state_dict[spelled[key]] = own[key].detach().clone()
        level = logging.WARNING if transfer.reinitialised or transfer.unused else logging.INFO
        runner.logger.log(level, describe(transfer, name))


def _refusal(transfer: KeypointTransfer, name: str) -> str:
    if not transfer.loaded:
        return (f'load_from {name}: no tensor of the checkpoint fits the model of the config '
                '(likely a checkpoint of another architecture, or keys with another prefix)')
    shapes = ', '.join(f'{key} checkpoint {list(c)} vs model {list(m)}'
                       for key, c, m in transfer.other_shapes[:8])
    more = len(transfer.other_shapes) - 8
    return (f'load_from {name}: {len(transfer.other_shapes)} tensors differ in more than the '
            f'keypoint count: {shapes}{f" (+{more} more)" if more > 0 else ""}; likely a '
            'checkpoint of another model size (widen/deepen factor, channels): use the config '
            'it was trained with. To load only the tensors that fit on purpose, set '
            'default_hooks.keypoint_finetune=None (mmengine then loads with strict=False)')
