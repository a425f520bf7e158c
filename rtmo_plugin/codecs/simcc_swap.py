"""MMPose top-down recipes with :class:`BoxSimCCLabel` in place of ``SimCCLabel``.

A config inherits MMPose's RTMPose/RTMW config and takes the swapped entries in one line::

    _base_ = ['mmpose::body_2d_keypoint/rtmpose/coco/rtmpose-t_8xb256-420e_coco-256x192.py']
    from rtmo_plugin.codecs.simcc_swap import boxsimcc_recipe  # noqa: E402
    (codec, train_pipeline, train_pipeline_stage2, train_dataloader, custom_hooks,
     model) = boxsimcc_recipe(_base_.codec, _base_.train_pipeline,
                              _base_.train_pipeline_stage2, _base_.custom_hooks)

The bins, labels and decoding are SimCCLabel's (``tests/test_codec.py``), so only the codec's
``type`` changes: in the targets of both training stages, in the hook that switches to stage 2,
and in the head's decoder.
"""
from __future__ import annotations

from typing import List, Mapping, Sequence, Tuple

_SHARED_ARGS = ('input_size', 'sigma', 'simcc_split_ratio', 'normalize')


def boxsimcc_codec(simcc: Mapping) -> dict:
    """A ``BoxSimCCLabel`` codec dict with the geometry of the ``SimCCLabel`` dict ``simcc``
    (``decode_visibility``, a separate output no metric reads, is not carried over)."""
    if simcc.get('type') != 'SimCCLabel':
        raise ValueError(f"the base config's codec is {simcc.get('type')!r}, not 'SimCCLabel': "
                         'inherit an RTMPose/RTMW config, or write the codec yourself')
    if simcc.get('use_dark'):
        raise ValueError("the base config's SimCCLabel has use_dark=True, which BoxSimCCLabel "
                         'does not implement: set codec.use_dark=False in the base')
    return dict(type='BoxSimCCLabel', **{k: simcc[k] for k in _SHARED_ARGS if k in simcc})


def with_encoder(pipeline: Sequence[Mapping], codec: Mapping) -> List[dict]:
    """``pipeline`` with every ``GenerateTarget`` encoding with ``codec``."""
    return [dict(t, encoder=dict(codec)) if t['type'] == 'GenerateTarget' else dict(t)
            for t in pipeline]


def boxsimcc_recipe(simcc: Mapping, train_pipeline: Sequence[Mapping],
                    train_pipeline_stage2: Sequence[Mapping],
                    custom_hooks: Sequence[Mapping]) -> Tuple[dict, list, list, dict, list, dict]:
    """``(codec, train_pipeline, train_pipeline_stage2, train_dataloader, custom_hooks, model)``:
    the entries of a config that swaps the base's ``SimCCLabel`` for ``BoxSimCCLabel``."""
    codec = boxsimcc_codec(simcc)
    stage1 = with_encoder(train_pipeline, codec)
    stage2 = with_encoder(train_pipeline_stage2, codec)
    hooks = [dict(h, switch_pipeline=stage2) if 'switch_pipeline' in h else dict(h)
             for h in custom_hooks]
    return (codec, stage1, stage2, dict(dataset=dict(pipeline=stage1)), hooks,
            dict(head=dict(decoder=dict(codec, _delete_=True))))
