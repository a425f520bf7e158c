"""The seed's two-phase schedule (a frozen ImageNet backbone first, then fine-tuning), and the
plugin's checked ``load_from`` for MMPose's top-down heads."""
from __future__ import annotations

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS

from rtmo_plugin.engine.finetune import KeypointFinetuneHook


@HOOKS.register_module()
class BackboneUnfreezeHook(Hook):
    """Unfreezes the backbone at the start of epoch ``unfreeze_epoch`` (0-based).

    Configure the backbone frozen (MMPose's ResNet: ``frozen_stages=4`` freezes the stem and
    all four stages); from ``unfreeze_epoch`` on, every backbone parameter trains and its
    BatchNorms update. The optimiser already holds the frozen parameters (mmengine adds all),
    so their learning rate is the config's (e.g. ``paramwise_cfg`` ``backbone`` ``lr_mult``).
    Also right after resuming past that epoch.
    """

    priority = 'NORMAL'

    def __init__(self, unfreeze_epoch: int) -> None:
        if unfreeze_epoch < 0:
            raise ValueError(f'BackboneUnfreezeHook: unfreeze_epoch={unfreeze_epoch} must be '
                             '>= 0')
        self.unfreeze_epoch = unfreeze_epoch

    def before_train_epoch(self, runner) -> None:
        if runner.epoch < self.unfreeze_epoch:
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        backbone = model.backbone
        if getattr(backbone, 'frozen_stages', -1) == -1 and all(
                p.requires_grad for p in backbone.parameters()):
            return  # already trainable
        if hasattr(backbone, 'frozen_stages'):
            backbone.frozen_stages = -1  # MMPose's ResNet re-freezes in train() otherwise
        for param in backbone.parameters():
            param.requires_grad_(True)
        backbone.train()
        runner.logger.info(f'BackboneUnfreezeHook: backbone trainable from epoch '
                           f'{runner.epoch + 1}')


@HOOKS.register_module()
class TopdownKeypointFinetuneHook(KeypointFinetuneHook):
    """The plugin's :class:`~rtmo_plugin.engine.finetune.KeypointFinetuneHook` (``load_from``:
    tensors of another keypoint set re-initialised and listed, any other mismatch an error)
    for heads that name their keypoint count ``num_joints`` (MMPose's ``RegressionHead``) or
    ``out_channels`` (``RTMCCHead``) rather than ``num_keypoints``."""

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        head = model.head
        if not hasattr(head, 'num_keypoints'):
            count = getattr(head, 'num_joints', None) or getattr(head, 'out_channels', None)
            if count is None:
                raise AttributeError(f'TopdownKeypointFinetuneHook: {type(head).__name__} has '
                                     'none of num_keypoints, num_joints, out_channels')
            head.num_keypoints = int(count)
        super().after_load_checkpoint(runner, checkpoint)
