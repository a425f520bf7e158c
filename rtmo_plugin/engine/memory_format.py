"""Train convolutional models in the channels-last memory format."""
from __future__ import annotations

import torch
from mmengine.hooks import Hook
from mmpose.registry import HOOKS

from ..utils import unwrap


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Stores the model's 4-D parameters as NHWC (``torch.channels_last``) before the run.

    A convolution whose weight is channels-last runs channels-last, and so does
    everything after it: oneDNN's CPU convolutions (and cuDNN's with AMP) skip
    their layout conversions. Measured for the demo's backbone and neck at
    160x160, batch 8, 2 CPU cores: forward + backward 190 ms instead of 260 ms; for an
    RTMO-s 640 training step on a Zen 5 EPYC 1.04-1.18x (docs/benchmarks.md).
    Values are unchanged up to float rounding (the summation order differs), and
    so are the checkpoints' keys and shapes.

    Runs in ``before_run`` with a high priority, before ``EMAHook`` copies the
    model, so that the averaged model has the same layout.
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        model = unwrap(runner.model)
        # `Module.to` swaps each parameter's data in place: optimisers built
        # earlier keep referring to the same Parameter objects
        model.to(memory_format=torch.channels_last)
